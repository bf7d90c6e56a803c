package call

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/fault"
	"github.com/autopulse/autopulse/internal/postgres"
	"github.com/autopulse/autopulse/internal/postgres/db"
)

// Statuses of audio_files.
const (
	audioPending = "pending"
	audioStored  = "stored"
	audioFailed  = "failed"
)

// queueRecording creates the call's pending audio file and enqueues its
// download, once.
func (s *Service) queueRecording(ctx context.Context, tx *postgres.Tx, c db.Call, source string) error {
	if source == "" {
		return nil
	}
	rows, err := tx.AudioFileInsertPending(ctx, db.AudioFileInsertPendingParams{
		OrganizationID: c.OrganizationID, ID: uuid.Must(uuid.NewV7()), CallID: c.ID, SourceUrl: &source, DurationSec: c.DurationSec,
	})
	if err != nil || len(rows) == 0 {
		return err
	}
	if s.Jobs == nil {
		return errNoJobs
	}
	_, err = s.Jobs.InsertTx(ctx, tx.Tx, DownloadRecordingArgs{OrganizationID: c.OrganizationID, AudioFileID: rows[0].ID}, nil)
	return err
}

// permanentError is a download failure that another attempt cannot fix.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

func permanent(format string, args ...any) error {
	return &permanentError{msg: fmt.Sprintf(format, args...)}
}

// DownloadRecording fetches a pending audio file's recording into the blob
// store, under orgs/<organization>/recordings/<call id>.<ext>, and marks it
// stored with its size and SHA-256. The URL must be http(s) on one of
// RecordingHosts (redirects too); the answer must be audio (an audio/*
// content type, or a body that is a WAV file) of at most MaxRecordingBytes.
//
// A failure another attempt cannot fix (a host not allowed, not audio, too
// large, a 4xx other than 404/408/425/429) marks the file failed with the
// reason and returns nil. Other failures (network, 5xx, 404 while the
// provider uploads) return an error for River to retry; the job's last
// attempt marks the file failed (MarkRecordingFailed). A file no longer
// pending is left alone.
func (s *Service) DownloadRecording(ctx context.Context, org, audioFileID uuid.UUID) error {
	var af db.AudioFile
	err := s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		var err error
		af, err = tx.AudioFileGet(ctx, org, audioFileID)
		return err
	})
	switch {
	case fault.Is(err, fault.NotFound):
		return nil // the call (and its audio file) was deleted
	case err != nil:
		return err
	case af.Status != audioPending:
		return nil
	}
	obj, err := s.fetchRecording(ctx, org, af)
	var perm *permanentError
	if errors.As(err, &perm) {
		s.log().WarnContext(ctx, "recording not stored", "organization_id", org, "audio_file_id", af.ID, "reason", perm.msg)
		return s.MarkRecordingFailed(ctx, org, audioFileID, perm.msg)
	}
	if err != nil {
		return err
	}
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		_, err := tx.AudioFileMarkStored(ctx, db.AudioFileMarkStoredParams{
			OrganizationID: org, ID: af.ID, StorageKey: &obj.Key, ContentType: &obj.ContentType,
			SizeBytes: &obj.Size, Sha256: &obj.SHA256,
		})
		return err
	})
}

// MarkRecordingFailed gives up on a pending audio file, with the reason.
func (s *Service) MarkRecordingFailed(ctx context.Context, org, audioFileID uuid.UUID, reason string) error {
	return s.DB.InTenant(ctx, org, func(tx *postgres.Tx) error {
		_, err := tx.AudioFileMarkFailed(ctx, db.AudioFileMarkFailedParams{OrganizationID: org, ID: audioFileID, Error: clip(reason, 1000)})
		return err
	})
}

func (s *Service) fetchRecording(ctx context.Context, org uuid.UUID, af db.AudioFile) (blob.Object, error) {
	if s.Blob == nil {
		return blob.Object{}, errNoBlobStore
	}
	u, err := s.recordingURL(deref(af.SourceUrl))
	if err != nil {
		return blob.Object{}, err
	}
	timeout := s.RecordingTimeout
	if timeout <= 0 {
		timeout = DefaultRecordingTimeout
	}
	limit := s.MaxRecordingBytes
	if limit <= 0 {
		limit = DefaultMaxRecordingBytes
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), http.NoBody)
	if err != nil {
		return blob.Object{}, permanent("recording URL: %v", err)
	}
	req.Header.Set("Accept", "audio/*")
	resp, err := s.downloadClient().Do(req)
	if err != nil {
		if errors.Is(err, errHostNotAllowed) {
			return blob.Object{}, permanent("the recording redirects to a host not allowed")
		}
		return blob.Object{}, fmt.Errorf("download recording: %w", err)
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
	case code == http.StatusNotFound, code == http.StatusRequestTimeout, code == http.StatusTooEarly,
		code == http.StatusTooManyRequests, code >= 500:
		return blob.Object{}, fmt.Errorf("download recording: HTTP %d", code)
	default:
		return blob.Object{}, permanent("the recording URL answered HTTP %d", code)
	}
	if resp.ContentLength > limit {
		return blob.Object{}, permanent("the recording is %d bytes; the limit is %d", resp.ContentLength, limit)
	}
	body := bufio.NewReaderSize(resp.Body, 512)
	head, _ := body.Peek(12)
	ctype, ok := audioType(resp.Header.Get("Content-Type"), head)
	if !ok {
		return blob.Object{}, permanent("the recording is %q, not audio", clip(resp.Header.Get("Content-Type"), 100))
	}
	key := fmt.Sprintf("orgs/%s/recordings/%s%s", org, af.CallID, extensionOf(ctype))
	obj, err := s.Blob.Put(ctx, key, body, blob.PutOptions{ContentType: ctype, MaxBytes: limit})
	if errors.Is(err, blob.ErrTooLarge) {
		return blob.Object{}, permanent("the recording is larger than %d bytes", limit)
	}
	return obj, err
}

var errHostNotAllowed = errors.New("recording host not allowed")

// recordingURL checks a recording URL against the allow-list.
func (s *Service) recordingURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, permanent("the recording URL is not an absolute http(s) URL")
	}
	if !hostAllowed(s.RecordingHosts, u) {
		return nil, permanent("recording host %q is not in the allowed hosts", clip(u.Host, 200))
	}
	return u, nil
}

// downloadClient is HTTPClient with redirects held to the allow-list.
func (s *Service) downloadClient() *http.Client {
	c := http.Client{}
	if s.HTTPClient != nil {
		c = *s.HTTPClient
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if (req.URL.Scheme != "https" && req.URL.Scheme != "http") || !hostAllowed(s.RecordingHosts, req.URL) {
			return errHostNotAllowed
		}
		return nil
	}
	return &c
}

// hostAllowed reports whether u's host matches an entry of allow: a host
// ("storage.vapi.ai", "127.0.0.1", "::1"), a host and port
// ("127.0.0.1:8090", "[::1]:8090"), or "*.domain" for any subdomain of
// domain. Names compare case-insensitively.
func hostAllowed(allow []string, u *url.URL) bool {
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if host == "" {
		return false
	}
	for _, entry := range allow {
		entry = strings.ToLower(strings.TrimSpace(entry))
		want, wantPort := entry, ""
		if h, p, err := net.SplitHostPort(entry); err == nil {
			want, wantPort = h, p
		}
		want = strings.TrimSuffix(strings.Trim(want, "[]"), ".")
		if want == "" || (wantPort != "" && wantPort != port) {
			continue
		}
		if suffix, ok := strings.CutPrefix(want, "*."); ok {
			if suffix != "" && strings.HasSuffix(host, "."+suffix) {
				return true
			}
			continue
		}
		if host == want {
			return true
		}
	}
	return false
}

// audioType decides the stored content type: the response's audio/* type,
// or audio/wav for a body that is a RIFF/WAVE file whatever its label.
func audioType(header string, head []byte) (string, bool) {
	mt, _, err := mime.ParseMediaType(header)
	if err == nil && strings.HasPrefix(mt, "audio/") && len(mt) > len("audio/") {
		return mt, true
	}
	if isWAV(head) {
		return "audio/wav", true
	}
	return "", false
}

func isWAV(head []byte) bool {
	return len(head) >= 12 && bytes.Equal(head[0:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WAVE"))
}

func extensionOf(ctype string) string {
	switch ctype {
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return ".wav"
	case "audio/mpeg", "audio/mp3":
		return ".mp3"
	case "audio/ogg":
		return ".ogg"
	case "audio/webm":
		return ".webm"
	case "audio/mp4", "audio/x-m4a":
		return ".m4a"
	case "audio/flac":
		return ".flac"
	}
	return ".audio"
}

// recordingBackoff is the wait before download attempt n+1: 10 s doubling
// to at most an hour.
func recordingBackoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}
