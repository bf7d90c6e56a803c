// Command pgrun runs a command against a throwaway PostgreSQL cluster:
//
//	go run ./cmd/pgrun -- go test ./...
//
// It starts an ephemeral cluster from the machine's PostgreSQL binaries,
// exports its superuser URL as AUTOPULSE_TEST_DATABASE_URL, runs the
// command, and removes the cluster. `make test` uses it so that one cluster
// serves every test package of a run.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/pgtest"
)

func main() {
	code, err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgrun:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(args []string) (int, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return 2, errors.New("usage: pgrun -- command [args...]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp("", "autopulse-pgrun-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	cluster, err := postgres.StartCluster(ctx, postgres.ClusterOptions{Dir: dir, Ephemeral: true})
	if err != nil {
		return 1, err
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgrun:", err)
		}
	}()

	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres",
		RawQuery: url.Values{"host": {cluster.SocketDir()}, "port": {strconv.Itoa(cluster.Port())}, "sslmode": {"disable"}}.Encode()}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...) //nolint:gosec // running the given command is the point
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), pgtest.EnvURL+"="+u.String())
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), nil
		}
		return 1, err
	}
	return 0, nil
}
