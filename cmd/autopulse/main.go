// Command autopulse is the AutoPulse backend: API server, workers,
// migrations, seeding. Run `autopulse help` for the subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // IANA zones even on images without /usr/share/zoneinfo

	"github.com/autopulse/autopulse/internal/config"
	"github.com/autopulse/autopulse/internal/logging"
)

// version is set at build time: -ldflags "-X main.version=…".
var version = "dev"

const usage = `autopulse: the AutoPulse backend

Usage:
  autopulse serve                 API server (and workers, unless AUTOPULSE_WORKERS=false)
  autopulse worker                background workers only
  autopulse migrate up            apply pending migrations
  autopulse migrate down [N|--all] roll back N migrations (default 1), or all of them
  autopulse migrate status        list migrations and whether each is applied
  autopulse seed [--admin-email E --admin-password P] [--demo]
                                  create the platform admin and/or demo data
  autopulse import FILE --org ORG import service records from a CSV file, with a progress bar
  autopulse voicesim              the voice-provider simulator, standalone (AUTOPULSE_VOICESIM_*)
  autopulse openapi [FILE]        write the OpenAPI 3.1 document (default: standard output)
  autopulse version               print the version

Configuration comes from the environment; see README.md.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "autopulse:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		fmt.Print(usage)
		return errors.New("missing subcommand")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "--version":
		fmt.Println("autopulse", version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	case "openapi":
		return writeOpenAPI(firstOr(rest, ""))
	}

	cfg, err := config.Load()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := logging.New(os.Stderr, cfg.LogFormat, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful shutdown; restoring the default
	// handling then lets a second one end the process at once.
	context.AfterFunc(ctx, stop)

	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, true)
	case "worker":
		return serve(ctx, cfg, log, false)
	case "migrate":
		return migrate(ctx, cfg, log, rest)
	case "seed":
		return seed(ctx, cfg, log, rest)
	case "import":
		return runImport(ctx, cfg, log, rest)
	case "voicesim":
		return runVoicesim(ctx, log)
	default:
		fmt.Print(usage)
		return fmt.Errorf("unknown subcommand %q", cmd)
	}
}

// firstOr returns args[0], or def when there is none.
func firstOr(args []string, def string) string {
	if len(args) == 0 {
		return def
	}
	return args[0]
}
