package infra

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Message is one annotation of a synthesized stack (cdk-nag findings,
// warnings, errors), read back from the cloud assembly on disk.
type Message struct {
	Stack string
	Path  string // construct path, e.g. /AutoPulse-dev-Data/Postgres/Resource
	Level string // info, warning or error
	Text  string
}

func (m Message) String() string {
	return fmt.Sprintf("%s: %s: %s", m.Level, m.Path, m.Text)
}

// ReadMessages returns the annotations of every stack in the cloud assembly
// at dir, from manifest.json and each stack's metadata file.
func ReadMessages(dir string) ([]Message, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	read := func(name string, v any) error {
		b, err := root.ReadFile(name)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, v)
	}

	type entry struct {
		Type string `json:"type"`
		Data any    `json:"data"`
	}
	var manifest struct {
		Artifacts map[string]struct {
			Type               string             `json:"type"`
			Metadata           map[string][]entry `json:"metadata"`
			AdditionalMetadata string             `json:"additionalMetadataFile"`
		} `json:"artifacts"`
	}
	if err := read("manifest.json", &manifest); err != nil {
		return nil, fmt.Errorf("read cloud assembly: %w", err)
	}
	var out []Message
	for name, a := range manifest.Artifacts {
		if a.Type != "aws:cloudformation:stack" {
			continue
		}
		metadata := map[string][]entry{}
		for p, es := range a.Metadata {
			metadata[p] = append(metadata[p], es...)
		}
		if a.AdditionalMetadata != "" {
			var more map[string][]entry
			if err := read(filepath.Base(a.AdditionalMetadata), &more); err != nil {
				return nil, fmt.Errorf("read metadata of %s: %w", name, err)
			}
			for p, es := range more {
				metadata[p] = append(metadata[p], es...)
			}
		}
		for p, es := range metadata {
			for _, e := range es {
				level, ok := strings.CutPrefix(e.Type, "aws:cdk:")
				if !ok || (level != "info" && level != "warning" && level != "error") {
					continue
				}
				text, ok := e.Data.(string)
				if !ok {
					b, _ := json.Marshal(e.Data)
					text = string(b)
				}
				out = append(out, Message{Stack: name, Path: p, Level: level, Text: text})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Text < out[j].Text
	})
	return out, nil
}
