package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Role and database names used by the embedded cluster. Migrations run as
// OwnerRole, which owns every table; the server connects as AppRole, which
// owns nothing and is subject to row-level security.
const (
	OwnerRole    = "autopulse"
	AppRole      = "autopulse_app"
	DatabaseName = "autopulse"
	superuser    = "postgres"
)

// ClusterOptions configures an embedded cluster.
type ClusterOptions struct {
	// Dir holds the cluster; it is created on first start and reused after.
	Dir string
	// Ephemeral trades durability for speed (fsync off): for test clusters.
	Ephemeral bool
	Logger    *slog.Logger
}

// Cluster is a private PostgreSQL server started from the machine's own
// binaries. It listens on a unix socket in a directory only its owner can
// enter, and on 127.0.0.1 with password authentication.
type Cluster struct {
	binDir    string
	dataDir   string
	socketDir string
	port      int
	runAs     *syscall.Credential
	log       *slog.Logger
}

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres ≥ 15) not found: " +
	"install them (Debian/Ubuntu: apt install postgresql; macOS: brew install postgresql) " +
	"or set DATABASE_URL to use an existing server")

// StartCluster initializes the cluster in opts.Dir if needed and starts it.
// Postgres refuses to run as root, so when this process is root the server
// runs as the "postgres" system user.
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	binDir, err := findBinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{binDir: binDir, log: log}

	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	// Parents we create are traversable but not listable by others, so the
	// postgres user (when we are root) can reach its own directory below.
	if err := os.MkdirAll(filepath.Dir(dir), 0o711); err != nil { //nolint:gosec // G301: search-only for others, so the postgres user can reach its directory
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if os.Geteuid() == 0 {
		if c.runAs, err = postgresUser(); err != nil {
			return nil, err
		}
		if dir, err = reachableDir(dir, c.runAs); err != nil {
			return nil, err
		}
	}
	c.dataDir = filepath.Join(dir, "pgdata")
	c.socketDir = filepath.Join(dir, "run")
	// A unix socket path must fit in 107 bytes; long checkouts fall back to a
	// private temporary directory.
	if len(c.socketDir) > 80 {
		if c.socketDir, err = os.MkdirTemp("", "autopulse-sock-"); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{dir, c.socketDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
		if err := c.chown(d); err != nil {
			return nil, err
		}
	}

	fresh := false
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		fresh = true
		start := time.Now()
		args := []string{"-D", c.dataDir, "-U", superuser, "-E", "UTF8", "--locale=C.UTF-8",
			"--auth-local=trust", "--auth-host=scram-sha-256"}
		if opts.Ephemeral {
			args = append(args, "--no-sync")
		}
		if out, err := c.run(ctx, "initdb", args...); err != nil {
			return nil, fmt.Errorf("initdb: %w\n%s", err, out)
		}
		log.Info("initialized embedded postgres cluster", "dir", c.dataDir, "took", time.Since(start).Round(time.Millisecond))
	}

	if c.port, err = freePort(); err != nil {
		return nil, err
	}
	serverOpts := []string{
		"-p", strconv.Itoa(c.port),
		"-k", c.socketDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_permissions=0700",
		"-c", "max_connections=300",
	}
	if opts.Ephemeral {
		serverOpts = append(serverOpts, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logFile := filepath.Join(dir, "postgres.log")
	start := time.Now()
	if out, err := c.run(ctx, "pg_ctl", "-D", c.dataDir, "-l", logFile, "-w", "-t", "60",
		"-o", strings.Join(serverOpts, " "), "start"); err != nil {
		return nil, fmt.Errorf("pg_ctl start (log: %s): %w\n%s", logFile, err, out)
	}
	log.Info("embedded postgres started", "port", c.port, "socket_dir", c.socketDir,
		"fresh", fresh, "took", time.Since(start).Round(time.Millisecond))
	return c, nil
}

// Stop shuts the server down with a fast shutdown: open transactions roll
// back, and everything committed is on disk.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := c.run(ctx, "pg_ctl", "-D", c.dataDir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	c.log.Info("embedded postgres stopped")
	return nil
}

// DSN returns a connection string for user to database over the socket.
func (c *Cluster) DSN(user, database string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", c.socketDir, c.port, user, database)
}

// SuperuserDSN connects as the bootstrap superuser; only for provisioning.
func (c *Cluster) SuperuserDSN(database string) string { return c.DSN(superuser, database) }

// BinDir is where the server binaries were found (pg_dump lives there too).
func (c *Cluster) BinDir() string { return c.binDir }

func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...) //nolint:gosec // G204: the machine's own PostgreSQL binaries, found by findBinDir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "LANG=C.UTF-8")
	if c.runAs != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.runAs}
		cmd.Dir = "/"
	}
	// pg_ctl leaves the server running with our stdout inherited unless it
	// is redirected; a buffer keeps CombinedOutput from waiting on it.
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func (c *Cluster) chown(path string) error {
	if c.runAs == nil {
		return nil
	}
	return os.Chown(path, int(c.runAs.Uid), int(c.runAs.Gid))
}

var versionDir = regexp.MustCompile(`^\d+$`)

// findBinDir locates initdb/pg_ctl/postgres of version 15 or newer:
// $AUTOPULSE_PG_BINDIR, then pg_config --bindir, then the newest
// /usr/lib/postgresql/N/bin, then Homebrew's, then $PATH.
func findBinDir() (string, error) {
	var candidates []string
	if d := os.Getenv("AUTOPULSE_PG_BINDIR"); d != "" {
		candidates = append(candidates, d)
	}
	if out, err := exec.CommandContext(context.Background(), "pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	if entries, err := os.ReadDir("/usr/lib/postgresql"); err == nil {
		var versions []int
		for _, e := range entries {
			if versionDir.MatchString(e.Name()) {
				n, _ := strconv.Atoi(e.Name())
				versions = append(versions, n)
			}
		}
		sort.Sort(sort.Reverse(sort.IntSlice(versions)))
		for _, v := range versions {
			candidates = append(candidates, fmt.Sprintf("/usr/lib/postgresql/%d/bin", v))
		}
	}
	candidates = append(candidates, "/opt/homebrew/bin", "/usr/local/bin")
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, dir := range candidates {
		if serverVersion(dir) >= 15 {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

var versionRe = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

func serverVersion(binDir string) int {
	for _, name := range []string{"initdb", "pg_ctl"} {
		if _, err := os.Stat(filepath.Join(binDir, name)); err != nil { //nolint:gosec // G703: probing candidate binary directories is the point
			return 0
		}
	}
	out, err := exec.CommandContext(context.Background(), filepath.Join(binDir, "postgres"), "--version").Output() //nolint:gosec // G204: a candidate PostgreSQL binary
	if err != nil {
		return 0
	}
	m := versionRe.FindSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root, but PostgreSQL refuses to run as root and there is no " +
			"'postgres' system user to run it as: create one (useradd --system postgres) or run as another user")
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// reachableDir returns dir if the postgres user can traverse to it. When an
// ancestor is closed to it (a 0700 home or temporary directory), the cluster
// moves to /var/lib/autopulse/<hash of dir>, which is stable across restarts,
// rather than loosening the ancestors' permissions.
func reachableDir(dir string, cred *syscall.Credential) (string, error) {
	if traversable(filepath.Dir(dir), cred) {
		return dir, nil
	}
	sum := sha256.Sum256([]byte(dir))
	alt := filepath.Join("/var/lib/autopulse", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll("/var/lib/autopulse", 0o755); err != nil { //nolint:gosec // G301: holds one 0700 cluster directory per data dir
		return "", fmt.Errorf("the postgres user cannot reach %s and %w", dir, err)
	}
	_ = os.WriteFile(filepath.Join(dir, "CLUSTER_LOCATION"),
		[]byte("The embedded cluster for this data dir lives in "+alt+"\n"), 0o600)
	return alt, nil
}

func traversable(dir string, cred *syscall.Credential) bool {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return false
		}
		mode := fi.Mode().Perm()
		switch {
		case st.Uid == cred.Uid && mode&0o100 != 0:
		case st.Gid == cred.Gid && mode&0o010 != 0:
		case mode&0o001 != 0:
		default:
			return false
		}
		if d == "/" {
			return true
		}
	}
}

func freePort() (int, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// SocketDir is the directory of the server's unix socket.
func (c *Cluster) SocketDir() string { return c.socketDir }

// Port is the server's port (TCP on 127.0.0.1, and the socket's name).
func (c *Cluster) Port() int { return c.port }
