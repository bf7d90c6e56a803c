package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/autopulse/autopulse/internal/config"
	"github.com/autopulse/autopulse/internal/postgres"
)

func migrate(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string) error {
	if len(args) == 0 {
		return errors.New("migrate: want up, down [N|--all] or status")
	}
	d, err := openDatabase(ctx, cfg, log, forMigrating)
	if err != nil {
		return err
	}
	defer d.close(log)
	m, err := postgres.NewMigrator(d.owner, log)
	if err != nil {
		return err
	}
	defer m.Close()

	switch args[0] {
	case "up":
		return migrateUp(ctx, d.owner, cfg, log)
	case "down":
		fs := flag.NewFlagSet("migrate down", flag.ContinueOnError)
		all := fs.Bool("all", false, "roll back every migration")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		steps := 1
		if fs.NArg() > 0 {
			if steps, err = strconv.Atoi(fs.Arg(0)); err != nil || steps < 1 {
				return fmt.Errorf("migrate down: %q is not a positive number of steps", fs.Arg(0))
			}
		}
		if *all {
			_, err = m.DownAll(ctx)
		} else {
			_, err = m.Down(ctx, steps)
		}
		return err
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "VERSION\tSTATE\tAPPLIED AT\tSOURCE")
		for _, s := range st {
			at := "-"
			if !s.AppliedAt.IsZero() {
				at = s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", s.Source.Version, s.State, at, s.Source.Path)
		}
		return w.Flush()
	default:
		return fmt.Errorf("migrate: unknown action %q; want up, down or status", args[0])
	}
}
