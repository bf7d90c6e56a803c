package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// process is a running `autopulse` binary whose JSON log is collected.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []map[string]any
	raw    bytes.Buffer
	urls   chan map[string]string // "serving" and "metrics" urls, once both are logged
	exited chan error
}

// buildBinary compiles cmd/autopulse into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "autopulse")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// start runs bin with args and env (and nothing else from ours but PATH and
// HOME), and collects its log.
func start(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{urls: make(chan map[string]string, 1), exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	p.cmd.Stdout = io.Discard
	require.NoError(t, p.cmd.Start())
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		urls := map[string]string{}
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]any
			_ = json.Unmarshal(sc.Bytes(), &line)
			p.mu.Lock()
			p.raw.Write(sc.Bytes())
			p.raw.WriteByte('\n')
			p.lines = append(p.lines, line)
			p.mu.Unlock()
			if msg, _ := line["msg"].(string); msg == "serving" || msg == "metrics" {
				urls[msg], _ = line["url"].(string)
				if len(urls) == 2 {
					p.urls <- urls
				}
			}
		}
	}()
	go func() {
		<-scanned // read the whole log before Wait closes the pipe
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
		}
	})
	return p
}

// log returns the end of the process's log, for failure messages.
func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := strings.Split(strings.TrimRight(p.raw.String(), "\n"), "\n")
	if len(lines) > 40 {
		lines = append([]string{"…"}, lines[len(lines)-40:]...)
	}
	return strings.Join(lines, "\n")
}

// count returns how many log lines have msg and a value of key in values.
func (p *process) count(msg, key string, values ...string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.lines {
		if l["msg"] != msg {
			continue
		}
		for _, v := range values {
			if l[key] == v {
				n++
				break
			}
		}
	}
	return n
}

// attr returns the string attribute key of the first log line with msg
// whose attribute k is v.
func (p *process) attr(msg, k, v, key string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if l["msg"] == msg && l[k] == v {
			s, _ := l[key].(string)
			return s
		}
	}
	return ""
}

// logged reports whether a log line has msg and every attribute in want.
func (p *process) logged(msg string, want map[string]any) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
next:
	for _, l := range p.lines {
		if l["msg"] != msg {
			continue
		}
		for k, v := range want {
			if l[k] != v {
				continue next
			}
		}
		return true
	}
	return false
}

// loadResult counts what the load generator saw.
type loadResult struct {
	responses   atomic.Int64 // any status
	ok, refused atomic.Int64
	mu          sync.Mutex
	bad         []string // a response that was not 2xx, or a request that failed after it was accepted
}

func (r *loadResult) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bad = append(r.bad, fmt.Sprintf(format, args...))
}

// TestGracefulShutdownUnderLoad runs `autopulse serve` against a test
// database, sends SIGTERM while clients hammer /healthz and /readyz, and
// checks that no request the server accepted failed: every response is a
// 2xx, and the only errors are connections refused once the listener has
// closed. The process must then exit 0 and log a clean stop.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	d := pgtest.New(t)
	bin := buildBinary(t)
	collector := newTraceCollector(t)
	p := start(t, bin, []string{
		"DATABASE_URL=" + d.AppDSN,
		"AUTOPULSE_LISTEN=127.0.0.1:0",
		"AUTOPULSE_METRICS_LISTEN=127.0.0.1:0",
		"AUTOPULSE_SHUTDOWN_TIMEOUT=20s",
		"AUTOPULSE_DATA_DIR=" + t.TempDir(),
		"AUTOPULSE_LOG_FORMAT=json",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + collector.URL,
	}, "serve")

	var urls map[string]string
	select {
	case urls = <-p.urls:
	case err := <-p.exited:
		t.Fatalf("autopulse exited before serving: %v\n%s", err, p.log())
	case <-time.After(2 * time.Minute): // a guard against hanging, not a timing assertion
		t.Fatalf("autopulse did not start serving\n%s", p.log())
	}
	api := urls["serving"]
	require.True(t, strings.HasPrefix(api, "http://127.0.0.1:"), api)
	require.True(t, strings.HasPrefix(urls["metrics"], "http://127.0.0.1:"), urls["metrics"])

	const (
		clients       = 16
		warmPerClient = 5   // responses each client gets before SIGTERM
		maxPerClient  = 500 // the load is bounded even if the server never stops
	)
	var (
		res  loadResult
		warm sync.WaitGroup
		done sync.WaitGroup
	)
	warm.Add(clients)
	for c := range clients {
		done.Go(func() {
			// One keep-alive connection per client, opened before SIGTERM:
			// after the listener closes, a new connection is refused.
			client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			warmed := false
			defer func() {
				if !warmed {
					warm.Done()
				}
			}()
			for i := range maxPerClient {
				path := "/healthz"
				if (c+i)%2 == 1 {
					path = "/readyz"
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+path, nil)
				resp, err := client.Do(req)
				if err != nil {
					cancel()
					if errors.Is(err, syscall.ECONNREFUSED) {
						res.refused.Add(1)
					} else {
						res.fail("client %d request %d %s: %v", c, i, path, err)
					}
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				cancel()
				res.responses.Add(1)
				if resp.StatusCode < 200 || resp.StatusCode > 299 {
					res.fail("client %d request %d %s: status %d", c, i, path, resp.StatusCode)
					continue
				}
				res.ok.Add(1)
				if i+1 == warmPerClient {
					warmed = true
					warm.Done()
				}
			}
		})
	}
	warm.Wait()

	// While the load runs: /metrics on its own listener shows the families.
	metricsBody := get(t, urls["metrics"])
	for _, want := range []string{
		`autopulse_http_requests_total{method="GET",route="/healthz",status="200"}`,
		`autopulse_http_request_duration_seconds_bucket{method="GET",route="/readyz"`,
		`autopulse_db_pool_total_conns{pool="app"}`,
		`autopulse_river_queue_jobs{queue="default",state="available"}`,
		"autopulse_build_info{",
		"go_goroutines ",
	} {
		require.Contains(t, metricsBody, want)
	}
	resp, err := http.Get(api + "/metrics") //nolint:noctx // test
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "/metrics is not on the public listener")

	// A traced request (health checks are not traced): its span reaches the
	// collector by the time the process has exited, and its log line
	// carries the trace id.
	resp, err = http.Get(api + "/api/v1/tags/0190a9b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b") //nolint:noctx // test
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	done.Wait()

	var exitErr error
	select {
	case exitErr = <-p.exited:
	case <-time.After(2 * time.Minute): // a guard against hanging, not a timing assertion
		t.Fatalf("autopulse did not exit after SIGTERM\n%s", p.log())
	}
	t.Logf("responses: %d ok, %d connections refused after the listener closed", res.ok.Load(), res.refused.Load())
	require.Empty(t, res.bad, "accepted requests failed")
	require.Positive(t, res.ok.Load())
	// The transport silently retries an idempotent request whose reused
	// connection broke, so a request the server handled but whose response
	// was lost would show up above as a refused retry. The server's access
	// log settles it: it handled exactly the requests that got a response.
	// (A request written to an idle connection as the server closed it was
	// never read, so it is in neither count.)
	require.EqualValues(t, res.responses.Load(), p.count("request", "route", "/healthz", "/readyz"),
		"requests the server handled = responses the clients received")
	require.NoError(t, exitErr, "exit status\n%s", p.log())
	require.Equal(t, 0, p.cmd.ProcessState.ExitCode())
	require.True(t, p.logged("shutting down", nil), p.log())
	require.True(t, p.logged("stopped", map[string]any{"clean": true}), "the log says it stopped clean\n%s", p.log())

	require.True(t, p.logged("river queue depth", map[string]any{"queue": "default"}),
		"the workers log the queue depth that CloudWatch's metric filter reads")
	require.True(t, collector.received("GET /api/v1/tags/{id}"), "the request's span was exported before exit")
	traceID := p.attr("request", "route", "/api/v1/tags/{id}", "trace_id")
	require.Len(t, traceID, 32, "the access log line carries the trace id")
}

// traceCollector stands in for an OpenTelemetry collector's OTLP/HTTP
// endpoint and keeps what it is sent.
type traceCollector struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newTraceCollector(t *testing.T) *traceCollector {
	t.Helper()
	c := &traceCollector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" {
			c.mu.Lock()
			c.bodies = append(c.bodies, b)
			c.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK) // an empty ExportTraceServiceResponse
	}))
	t.Cleanup(c.Close)
	return c
}

// received reports whether an export carried a span named name (the
// protobuf holds names as plain strings).
func (c *traceCollector) received(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.bodies {
		if bytes.Contains(b, []byte(name)) {
			return true
		}
	}
	return false
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // test
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
