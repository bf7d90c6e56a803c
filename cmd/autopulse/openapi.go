package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/autopulse/autopulse/internal/httpapi"
)

// writeOpenAPI writes the API's OpenAPI 3.1 document, as GET /openapi.json
// serves it, to path ("-" or empty: standard output). It needs no
// configuration and no database: the document comes from the route table
// alone. `make openapi` keeps docs/openapi.json current with it.
func writeOpenAPI(path string) error {
	srv := httpapi.New(httpapi.Deps{}, httpapi.Options{Version: "dev"}, slog.New(slog.DiscardHandler))
	doc, err := json.MarshalIndent(srv.API().OpenAPI(), "", "  ")
	if err != nil {
		return fmt.Errorf("openapi: %w", err)
	}
	var w io.Writer = os.Stdout
	if path != "" && path != "-" {
		f, err := os.Create(path) //nolint:gosec // a path the operator names
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if _, err := w.Write(append(doc, '\n')); err != nil {
		return err
	}
	return nil
}
