package call

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

func TestRecordingHostAllowList(t *testing.T) {
	t.Parallel()
	allow := []string{"storage.vapi.ai", "127.0.0.1:8090", "*.example.com", "[::1]:9000", "Media.Example.ORG."}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://storage.vapi.ai/rec.wav", true},
		{"https://STORAGE.vapi.ai./rec.wav", true},
		{"http://storage.vapi.ai:8080/rec.wav", true}, // no port in the entry: any port
		{"https://evil.storage.vapi.ai/rec.wav", false},
		{"https://storage.vapi.ai.evil.com/rec.wav", false},
		{"http://127.0.0.1:8090/r.wav", true},
		{"http://127.0.0.1:8091/r.wav", false},
		{"http://127.0.0.1/r.wav", false},
		{"https://a.example.com/r.wav", true},
		{"https://a.b.example.com/r.wav", true},
		{"https://example.com/r.wav", false}, // the wildcard is for subdomains only
		{"https://notexample.com/r.wav", false},
		{"http://[::1]:9000/r.wav", true},
		{"http://[::1]:9001/r.wav", false},
		{"https://media.example.org/r.wav", true},
		{"http://169.254.169.254/latest/meta-data", false},
		{"http://localhost/r.wav", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		require.NoError(t, err)
		require.Equal(t, tt.want, hostAllowed(allow, u), tt.url)
	}
	u, _ := url.Parse("https://storage.vapi.ai/x")
	require.False(t, hostAllowed(nil, u), "an empty allow-list refuses everything")
	require.False(t, hostAllowed([]string{"*."}, u))
}

func TestRecordingURLRefusesBadURLs(t *testing.T) {
	t.Parallel()
	s := &Service{RecordingHosts: []string{"storage.vapi.ai"}}
	for _, raw := range []string{
		"", "ftp://storage.vapi.ai/r.wav", "file:///etc/passwd", "https://user:pw@storage.vapi.ai/r.wav",
		"//storage.vapi.ai/r.wav", "https://other.host/r.wav", "http://[::1/r.wav",
	} {
		_, err := s.recordingURL(raw)
		var perm *permanentError
		require.ErrorAs(t, err, &perm, raw)
	}
	u, err := s.recordingURL("https://storage.vapi.ai/r.wav")
	require.NoError(t, err)
	require.Equal(t, "storage.vapi.ai", u.Host)
}

// wav builds a small valid WAV file.
func wav(samples int) []byte {
	b := make([]byte, 44+2*samples)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*samples))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 16000)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*samples))
	for i := range samples {
		b[44+2*i] = byte(i)
	}
	return b
}

type fetchEnv struct {
	s     *Service
	store *blob.FS
	org   uuid.UUID
	af    db.AudioFile
	srv   *httptest.Server
}

// setupFetch serves handler on a local server that the allow-list admits.
func setupFetch(t *testing.T, handler http.HandlerFunc) *fetchEnv {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	store, err := blob.NewFS(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	src := srv.URL + "/rec.wav"
	return &fetchEnv{
		s:     &Service{Blob: store, RecordingHosts: []string{u.Host}, MaxRecordingBytes: 64 << 10, RecordingTimeout: 10 * time.Second},
		store: store, org: uuid.Must(uuid.NewV7()), srv: srv,
		af: db.AudioFile{ID: uuid.Must(uuid.NewV7()), CallID: uuid.Must(uuid.NewV7()), SourceUrl: &src},
	}
}

func TestFetchRecordingStoresAudio(t *testing.T) {
	t.Parallel()
	audio := wav(4000)
	tests := []struct {
		name, contentType, want string
	}{
		{"labelled wav", "audio/wav", "audio/wav"},
		{"labelled with parameters", "audio/mpeg; charset=binary", "audio/mpeg"},
		{"octet-stream sniffed as wav", "application/octet-stream", "audio/wav"},
		{"no type sniffed as wav", "", "audio/wav"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setupFetch(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header()["Content-Type"] = []string{tt.contentType}
				_, _ = w.Write(audio)
			})
			obj, err := e.s.fetchRecording(context.Background(), e.org, e.af)
			require.NoError(t, err)
			sum := sha256.Sum256(audio)
			require.Equal(t, hex.EncodeToString(sum[:]), obj.SHA256)
			require.Equal(t, int64(len(audio)), obj.Size)
			require.Equal(t, tt.want, obj.ContentType)
			require.Contains(t, obj.Key, "orgs/"+e.org.String()+"/recordings/"+e.af.CallID.String())
			r, _, err := e.store.Get(context.Background(), obj.Key)
			require.NoError(t, err)
			defer r.Close()
			got, err := io.ReadAll(r)
			require.NoError(t, err)
			require.True(t, bytes.Equal(audio, got))
		})
	}
}

func TestFetchRecordingFailures(t *testing.T) {
	t.Parallel()
	big := wav(40 << 10) // 80 KiB, over the 64 KiB cap
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		permanent bool
	}{
		{"not audio", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html>login</html>")
		}, true},
		{"declared too large", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "audio/wav")
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			_, _ = w.Write(big)
		}, true},
		{"streamed too large", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "audio/wav")
			w.(http.Flusher).Flush() // chunked: no Content-Length
			_, _ = w.Write(big)
		}, true},
		{"forbidden", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }, true},
		{"not there yet", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) }, false},
		{"server error", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }, false},
		{"throttled", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }, false},
		{"redirect to a host not allowed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data", http.StatusFound)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setupFetch(t, tt.handler)
			_, err := e.s.fetchRecording(context.Background(), e.org, e.af)
			require.Error(t, err)
			var perm *permanentError
			require.Equal(t, tt.permanent, errors.As(err, &perm), "error: %v", err)
		})
	}
}

func TestFetchRecordingFollowsAllowedRedirects(t *testing.T) {
	t.Parallel()
	audio := wav(100)
	e := setupFetch(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rec.wav" {
			http.Redirect(w, r, "/signed/rec.wav", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "audio/wav")
		_, _ = w.Write(audio)
	})
	obj, err := e.s.fetchRecording(context.Background(), e.org, e.af)
	require.NoError(t, err)
	require.Equal(t, int64(len(audio)), obj.Size)
}

func TestRecordingBackoff(t *testing.T) {
	t.Parallel()
	require.Equal(t, 10*time.Second, recordingBackoff(1))
	require.Equal(t, 20*time.Second, recordingBackoff(2))
	require.Equal(t, 80*time.Second, recordingBackoff(4))
	require.Equal(t, time.Hour, recordingBackoff(30))
}
