package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"github.com/autopulse/autopulse/internal/config"
	"github.com/autopulse/autopulse/internal/record"
)

const importUsage = `Usage: autopulse import FILE --org ORG [--errors N]

Imports service records from a CSV file into an organization, synchronously,
through the same checks and load as an upload to the API: customers and
vehicles are de-duplicated, the import is idempotent on RO numbers, and a
file that cannot be loaded loads nothing. The import is recorded and shows in
GET /api/v1/service-records/imports.

  --org ORG     the organization's id or slug (required)
  --errors N    how many row errors to print (default 20)
`

// runImport is the `autopulse import` subcommand: the progress bar goes to
// stderr, the summary to stdout.
func runImport(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string) error {
	return importCSV(ctx, cfg, log, args, os.Stdout, os.Stderr)
}

func importCSV(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	orgRef := fs.String("org", "", "organization id or slug")
	maxErrors := fs.Int("errors", 20, "row errors to print")
	// FILE may come before or after the flags.
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			fmt.Fprint(stderr, importUsage)
			return fmt.Errorf("import: %w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 || *orgRef == "" || *maxErrors < 0 {
		fmt.Fprint(stderr, importUsage)
		return errors.New("import: want one FILE and --org")
	}
	path := files[0]
	f, err := os.Open(path) //nolint:gosec // G304: the operator names the file to import
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if info.IsDir() {
		return fmt.Errorf("import: %s is a directory", path)
	}

	d, err := openDatabase(ctx, cfg, log, forServing)
	if err != nil {
		return err
	}
	defer d.close(log) //nolint:contextcheck // closing runs after ctx may have ended, like every subcommand's
	svc := newServices(cfg, d)
	records := &record.Service{DB: svc.db, Log: log}
	org, err := resolveOrganization(ctx, records, *orgRef)
	if err != nil {
		return err
	}

	bar := progressbar.NewOptions64(info.Size(),
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("reading "+filepath.Base(path)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetPredictTime(true),
	)
	src := &eofNotifier{r: io.TeeReader(f, bar), onEOF: func() {
		_ = bar.Finish()
		fmt.Fprintln(stderr, "\nmerging into customers, vehicles and service records…")
	}}
	started := time.Now()
	imp, err := records.ImportFile(ctx, org, src, filepath.Base(path), info.Size(), *maxErrors)
	if imp.ID != uuid.Nil {
		printImport(stdout, imp, time.Since(started))
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

// resolveOrganization reads --org: an id, or a slug.
func resolveOrganization(ctx context.Context, records *record.Service, ref string) (uuid.UUID, error) {
	if id, err := uuid.Parse(ref); err == nil {
		return id, nil
	}
	id, err := records.OrganizationBySlug(ctx, strings.ToLower(strings.TrimSpace(ref)))
	if err != nil {
		return uuid.Nil, fmt.Errorf("import: --org %q: %w", ref, err)
	}
	return id, nil
}

// eofNotifier calls onEOF once, when its reader ends.
type eofNotifier struct {
	r     io.Reader
	onEOF func()
	done  bool
}

func (e *eofNotifier) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if errors.Is(err, io.EOF) && !e.done {
		e.done = true
		e.onEOF()
	}
	return n, err
}

// printImport writes what an import came to, and its first row errors.
func printImport(w io.Writer, imp record.Import, took time.Duration) {
	c := imp.Counts
	fmt.Fprintf(w, "\nimport %s: %s in %s\n", imp.ID, imp.Status, took.Round(time.Millisecond))
	if imp.Failure != "" {
		fmt.Fprintf(w, "  failed: %s\n  nothing was loaded\n", imp.Failure)
	}
	fmt.Fprintf(w, "  rows %d: inserted %d, updated %d, unchanged %d, duplicates %d, invalid %d\n",
		c.Rows, c.Inserted, c.Updated, c.Unchanged, c.Duplicates, c.Invalid)
	fmt.Fprintf(w, "  customers created %d, vehicles created %d\n", c.CustomersCreated, c.VehiclesCreated)
	if secs := took.Seconds(); secs > 0 && c.Rows > 0 {
		fmt.Fprintf(w, "  %.0f rows/s\n", float64(c.Rows)/secs)
	}
	if imp.ErrorsTotal > 0 {
		fmt.Fprintf(w, "  %d row errors", imp.ErrorsTotal)
		if len(imp.Errors) < imp.ErrorsTotal {
			fmt.Fprintf(w, " (the first %d)", len(imp.Errors))
		}
		fmt.Fprintln(w, ":")
		for _, e := range imp.Errors {
			fmt.Fprintf(w, "    %s\n", e.Error())
		}
	}
	if imp.WarningsTotal > 0 {
		fmt.Fprintf(w, "  %d warnings (rows loaded); see GET /api/v1/service-records/imports/%s\n", imp.WarningsTotal, imp.ID)
	}
}

// newSealer builds the sealer of integration secrets from the configured
// key. Production requires a key (config refuses to load without one).
func newSealer(cfg *config.Config, log *slog.Logger) (*record.Sealer, error) {
	if cfg.EncryptionKey == "" {
		if cfg.Env == config.Production {
			return nil, errors.New("AUTOPULSE_ENCRYPTION_KEY is required in production")
		}
		log.Warn("AUTOPULSE_ENCRYPTION_KEY is not set: DMS integration secrets are sealed with the fixed development key, "+
			"which anyone with the source can open; set a key of your own (openssl rand -base64 32) before storing real credentials",
			"env", cfg.Env)
		return record.NewSealer(record.DevelopmentKey())
	}
	key, err := record.ParseKey(cfg.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("AUTOPULSE_ENCRYPTION_KEY: %w", err)
	}
	return record.NewSealer(key)
}
