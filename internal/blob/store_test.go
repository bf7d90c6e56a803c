package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/autopulse/autopulse/internal/blob"
	"github.com/autopulse/autopulse/internal/fault"
)

// harness is one fresh, empty store and a view of what its backend holds.
type harness struct {
	store blob.Store
	// prefix is what the backend puts before a key in its own names.
	prefix string
	// stored lists every name the backend holds, raw: all files under the
	// root, temporary ones included, for FS; every key in the bucket for S3.
	stored func(t *testing.T) []string
}

var backends = []struct {
	name  string
	setup func(t *testing.T) harness
}{
	{"fs", func(t *testing.T) harness {
		s := setupFS(t)
		return harness{store: s, stored: func(t *testing.T) []string { return filesUnder(t, s.Dir()) }}
	}},
	{"s3", func(t *testing.T) harness {
		f := setupS3(t, "")
		return harness{store: f.store, stored: f.keys}
	}},
	{"s3-prefixed", func(t *testing.T) harness {
		f := setupS3(t, "recordings/")
		return harness{store: f.store, prefix: "recordings/", stored: f.keys}
	}},
}

// TestConformance runs every case against every backend, each on a fresh
// store.
func TestConformance(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		run  func(t *testing.T, h harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"DefaultAndInvalidContentType", testContentType},
		{"EmptyObject", testEmptyObject},
		{"MaxBytes", testMaxBytes},
		{"MaxBytesStopsReadingTheSource", testMaxBytesStopsReading},
		{"FailedPutKeepsPrevious", testFailedPutKeepsPrevious},
		{"ExpectedSHA256", testExpectedSHA256},
		{"Overwrite", testOverwrite},
		{"RangedReads", testRangedReads},
		{"OpenSeek", testOpenSeek},
		{"ServeContent", testServeContent},
		{"NotFound", testNotFound},
		{"HostileKeys", testHostileKeys},
		{"ConcurrentPutsOfDifferentKeys", testConcurrentPuts},
		{"ConcurrentPutsOfOneKey", testConcurrentPutsOneKey},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, b.setup(t))
				})
			}
		})
	}
}

func testRoundTrip(t *testing.T, h harness) {
	ctx := t.Context()
	const key = "calls/0192a4f0/recording.wav"
	data := payload(1_500_000, 1) // past the S3 backend's 1 MiB in-memory spool
	want := blob.Object{Key: key, Size: int64(len(data)), ContentType: "audio/wav", SHA256: sum(data)}

	obj, err := h.store.Put(ctx, key, bytes.NewReader(data), blob.PutOptions{ContentType: "audio/wav", MaxBytes: 2 << 20})
	require.NoError(t, err)
	requireObject(t, want, obj)

	rc, got, err := h.store.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, data, readAll(t, rc))
	requireObject(t, want, got)

	st, err := h.store.Stat(ctx, key)
	require.NoError(t, err)
	requireObject(t, want, st)
	require.Equal(t, []string{h.prefix + key}, h.stored(t))

	require.NoError(t, h.store.Delete(ctx, key))
	_, err = h.store.Stat(ctx, key)
	require.ErrorIs(t, err, blob.ErrNotFound)
	_, _, err = h.store.Get(ctx, key)
	require.ErrorIs(t, err, blob.ErrNotFound)
	require.NoError(t, h.store.Delete(ctx, key), "deleting an absent key succeeds")
	require.Empty(t, h.stored(t))
}

func testContentType(t *testing.T, h harness) {
	ctx := t.Context()
	obj, err := h.store.Put(ctx, "plain", strings.NewReader("x"), blob.PutOptions{})
	require.NoError(t, err)
	require.Equal(t, blob.DefaultContentType, obj.ContentType)
	st, err := h.store.Stat(ctx, "plain")
	require.NoError(t, err)
	require.Equal(t, blob.DefaultContentType, st.ContentType)

	obj, err = h.store.Put(ctx, "with-params", strings.NewReader("x"), blob.PutOptions{ContentType: "audio/mpeg; rate=8000"})
	require.NoError(t, err)
	require.Equal(t, "audio/mpeg; rate=8000", obj.ContentType)
	st, err = h.store.Stat(ctx, "with-params")
	require.NoError(t, err)
	require.Equal(t, "audio/mpeg; rate=8000", st.ContentType)

	for _, ct := range []string{"not a type", "audio/wav\r\nX-Injected: 1", "audio/"} {
		_, err := h.store.Put(ctx, "bad-type", strings.NewReader("x"), blob.PutOptions{ContentType: ct})
		require.Error(t, err, ct)
		require.Equal(t, fault.Invalid, fault.CodeOf(err), ct)
	}
	_, err = h.store.Stat(ctx, "bad-type")
	require.ErrorIs(t, err, blob.ErrNotFound)
}

func testEmptyObject(t *testing.T, h harness) {
	ctx := t.Context()
	obj, err := h.store.Put(ctx, "empty.wav", strings.NewReader(""), blob.PutOptions{ContentType: "audio/wav"})
	require.NoError(t, err)
	requireObject(t, blob.Object{Key: "empty.wav", ContentType: "audio/wav", SHA256: sum(nil)}, obj)

	rc, got, err := h.store.Get(ctx, "empty.wav")
	require.NoError(t, err)
	require.Empty(t, readAll(t, rc))
	require.Equal(t, int64(0), got.Size)

	_, _, err = h.store.GetRange(ctx, "empty.wav", 0, -1)
	require.ErrorIs(t, err, blob.ErrInvalidRange, "no byte range fits an empty object")

	r, _, err := h.store.Open(ctx, "empty.wav")
	require.NoError(t, err)
	require.Empty(t, readAll(t, r))
}

func testMaxBytes(t *testing.T, h harness) {
	ctx := t.Context()
	cases := []struct {
		name    string
		size    int
		max     int64
		tooBig  bool
		comment string
	}{
		{name: "under", size: 999, max: 1000},
		{name: "exactly", size: 1000, max: 1000},
		{name: "one over", size: 1001, max: 1000, tooBig: true},
		{name: "far over, past the memory spool", size: 3 << 20, max: 2 << 20, tooBig: true},
		{name: "exactly, past the memory spool", size: 2 << 20, max: 2 << 20},
	}
	for i, c := range cases {
		key := fmt.Sprintf("cap/%d", i)
		data := payload(c.size, uint64(i))
		obj, err := h.store.Put(ctx, key, bytes.NewReader(data), blob.PutOptions{MaxBytes: c.max})
		if c.tooBig {
			require.ErrorIs(t, err, blob.ErrTooLarge, c.name)
			require.Equal(t, fault.Invalid, fault.CodeOf(err), c.name)
			_, err = h.store.Stat(ctx, key)
			require.ErrorIs(t, err, blob.ErrNotFound, c.name)
			continue
		}
		require.NoError(t, err, c.name)
		require.Equal(t, int64(c.size), obj.Size, c.name)
		require.NoError(t, h.store.Delete(ctx, key))
	}
	require.Empty(t, h.stored(t), "a refused Put leaves nothing behind")

	for _, bad := range []int64{-1, blob.MaxPutBytes + 1} {
		_, err := h.store.Put(ctx, "cap/bad", strings.NewReader("x"), blob.PutOptions{MaxBytes: bad})
		require.Equal(t, fault.Invalid, fault.CodeOf(err), "MaxBytes %d", bad)
	}
}

// endless yields zero bytes forever and counts them.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	clear(p)
	e.n += int64(len(p))
	return len(p), nil
}

func testMaxBytesStopsReading(t *testing.T, h harness) {
	src := &endless{}
	_, err := h.store.Put(t.Context(), "endless", src, blob.PutOptions{MaxBytes: 1500 << 10})
	require.ErrorIs(t, err, blob.ErrTooLarge)
	require.Equal(t, int64(1500<<10+1), src.n, "Put reads one byte past the cap and stops")
	require.Empty(t, h.stored(t))
}

// failingReader yields n bytes, then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, f.err
	}
	return n, err
}

// cancellingReader cancels its context after the first read, or with
// atEOF only when it reports the end of its data, after the last check a
// copy can make.
type cancellingReader struct {
	r      io.Reader
	cancel context.CancelFunc
	atEOF  bool
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if !c.atEOF || errors.Is(err, io.EOF) {
		c.cancel()
	}
	return n, err
}

func testFailedPutKeepsPrevious(t *testing.T, h harness) {
	ctx := t.Context()
	const key = "calls/keep/recording.wav"
	v1 := payload(4000, 7)
	_, err := h.store.Put(ctx, key, bytes.NewReader(v1), blob.PutOptions{ContentType: "audio/wav"})
	require.NoError(t, err)

	boom := errors.New("connection reset by provider")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	midway, cancelMidway := context.WithCancel(ctx)
	t.Cleanup(cancelMidway)
	atEnd, cancelAtEnd := context.WithCancel(ctx)
	t.Cleanup(cancelAtEnd)
	big := payload(3<<20, 8)

	failures := []struct {
		name  string
		ctx   context.Context
		src   io.Reader
		opts  blob.PutOptions
		check func(error)
	}{
		{"too large", ctx, bytes.NewReader(payload(5000, 8)), blob.PutOptions{MaxBytes: 4500},
			func(err error) { require.ErrorIs(t, err, blob.ErrTooLarge) }},
		{"too large past the memory spool", ctx, bytes.NewReader(big), blob.PutOptions{MaxBytes: 2 << 20},
			func(err error) { require.ErrorIs(t, err, blob.ErrTooLarge) }},
		{"checksum mismatch", ctx, bytes.NewReader(payload(5000, 8)), blob.PutOptions{ExpectedSHA256: sum(v1)},
			func(err error) { require.ErrorIs(t, err, blob.ErrChecksumMismatch) }},
		{"source fails midway", ctx, &failingReader{r: bytes.NewReader(big), err: boom}, blob.PutOptions{},
			func(err error) { require.ErrorIs(t, err, boom) }},
		{"context cancelled before", cancelled, bytes.NewReader(big), blob.PutOptions{},
			func(err error) { require.ErrorIs(t, err, context.Canceled) }},
		{"context cancelled midway", midway, &cancellingReader{r: bytes.NewReader(big), cancel: cancelMidway}, blob.PutOptions{},
			func(err error) { require.ErrorIs(t, err, context.Canceled) }},
		{"context cancelled as the source ends", atEnd, &cancellingReader{r: bytes.NewReader(big), cancel: cancelAtEnd, atEOF: true}, blob.PutOptions{},
			func(err error) { require.ErrorIs(t, err, context.Canceled) }},
	}
	for _, f := range failures {
		_, err := h.store.Put(f.ctx, key, f.src, f.opts)
		require.Error(t, err, f.name)
		f.check(err)

		rc, obj, err := h.store.Get(ctx, key)
		require.NoError(t, err, f.name)
		require.Equal(t, v1, readAll(t, rc), f.name)
		require.Equal(t, sum(v1), obj.SHA256, f.name)
		require.Equal(t, "audio/wav", obj.ContentType, f.name)
		require.Equal(t, []string{h.prefix + key}, h.stored(t), f.name)
	}
}

func testExpectedSHA256(t *testing.T, h harness) {
	ctx := t.Context()
	data := payload(10_000, 3)
	for _, expected := range []string{sum(data), strings.ToUpper(sum(data))} {
		obj, err := h.store.Put(ctx, "verified", bytes.NewReader(data), blob.PutOptions{ExpectedSHA256: expected})
		require.NoError(t, err)
		require.Equal(t, sum(data), obj.SHA256, "the digest is returned in lowercase hex")
	}
	for _, malformed := range []string{"xyz", sum(data)[:63], sum(data) + "00"} {
		_, err := h.store.Put(ctx, "malformed", bytes.NewReader(data), blob.PutOptions{ExpectedSHA256: malformed})
		require.Equal(t, fault.Invalid, fault.CodeOf(err), malformed)
		require.NotErrorIs(t, err, blob.ErrChecksumMismatch, "a malformed digest is bad input, not a mismatch")
	}
	require.Equal(t, []string{h.prefix + "verified"}, h.stored(t))
}

func testOverwrite(t *testing.T, h harness) {
	ctx := t.Context()
	const key = "calls/over/recording"
	v1, v2 := payload(5000, 1), payload(3000, 2)
	_, err := h.store.Put(ctx, key, bytes.NewReader(v1), blob.PutOptions{ContentType: "audio/wav"})
	require.NoError(t, err)
	obj, err := h.store.Put(ctx, key, bytes.NewReader(v2), blob.PutOptions{ContentType: "audio/mpeg"})
	require.NoError(t, err)
	want := blob.Object{Key: key, Size: 3000, ContentType: "audio/mpeg", SHA256: sum(v2)}
	requireObject(t, want, obj)

	rc, got, err := h.store.Get(ctx, key)
	require.NoError(t, err)
	require.Equal(t, v2, readAll(t, rc))
	requireObject(t, want, got)
	st, err := h.store.Stat(ctx, key)
	require.NoError(t, err)
	requireObject(t, want, st)
	require.Equal(t, []string{h.prefix + key}, h.stored(t))
}

func testRangedReads(t *testing.T, h harness) {
	ctx := t.Context()
	const key = "calls/range/recording.wav"
	data := payload(10_000, 4)
	size := int64(len(data))
	_, err := h.store.Put(ctx, key, bytes.NewReader(data), blob.PutOptions{ContentType: "audio/wav"})
	require.NoError(t, err)

	reads := []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"first bytes", 0, 100, data[:100]},
		{"middle", 4000, 1000, data[4000:5000]},
		{"suffix to the end", size - 100, -1, data[size-100:]},
		{"suffix with an exact length", size - 100, 100, data[size-100:]},
		{"length past the end is clamped", size - 10, 100, data[size-10:]},
		{"last byte", size - 1, 1, data[size-1:]},
		{"whole", 0, -1, data},
	}
	for _, r := range reads {
		rc, obj, err := h.store.GetRange(ctx, key, r.offset, r.length)
		require.NoError(t, err, r.name)
		require.Equal(t, r.want, readAll(t, rc), r.name)
		require.Equal(t, size, obj.Size, "%s: Object.Size is the whole object", r.name)
		require.Equal(t, sum(data), obj.SHA256, r.name)
		require.Equal(t, "audio/wav", obj.ContentType, r.name)
	}

	invalid := []struct {
		name           string
		offset, length int64
	}{
		{"offset at the end", size, 1},
		{"offset past the end", size + 1, -1},
		{"negative offset", -1, 10},
		{"zero length", 0, 0},
		{"length below -1", 0, -2},
	}
	for _, r := range invalid {
		_, _, err := h.store.GetRange(ctx, key, r.offset, r.length)
		require.ErrorIs(t, err, blob.ErrInvalidRange, r.name)
		require.Equal(t, fault.Invalid, fault.CodeOf(err), r.name)
	}
	_, _, err = h.store.GetRange(ctx, "calls/range/absent", 0, 10)
	require.ErrorIs(t, err, blob.ErrNotFound)
}

func testOpenSeek(t *testing.T, h harness) {
	ctx := t.Context()
	const key = "calls/seek/recording.wav"
	data := payload(10_000, 5)
	size := int64(len(data))
	_, err := h.store.Put(ctx, key, bytes.NewReader(data), blob.PutOptions{ContentType: "audio/wav"})
	require.NoError(t, err)

	r, obj, err := h.store.Open(ctx, key)
	require.NoError(t, err)
	requireObject(t, blob.Object{Key: key, Size: size, ContentType: "audio/wav", SHA256: sum(data)}, obj)

	readN := func(n int) []byte {
		t.Helper()
		buf := make([]byte, n)
		_, err := io.ReadFull(r, buf)
		require.NoError(t, err)
		return buf
	}
	end, err := r.Seek(0, io.SeekEnd)
	require.NoError(t, err)
	require.Equal(t, size, end)

	pos, err := r.Seek(5000, io.SeekStart)
	require.NoError(t, err)
	require.Equal(t, int64(5000), pos)
	require.Equal(t, data[5000:5010], readN(10))
	require.Equal(t, data[5010:5020], readN(10), "reads continue where the last one stopped")

	pos, err = r.Seek(-100, io.SeekEnd)
	require.NoError(t, err)
	require.Equal(t, size-100, pos)
	require.Equal(t, data[size-100:], readAll(t, io.NopCloser(r)))
	n, err := r.Read(make([]byte, 1))
	require.Equal(t, 0, n)
	require.ErrorIs(t, err, io.EOF)

	_, err = r.Seek(10, io.SeekStart)
	require.NoError(t, err)
	pos, err = r.Seek(20, io.SeekCurrent)
	require.NoError(t, err)
	require.Equal(t, int64(30), pos)
	require.Equal(t, data[30:35], readN(5))

	_, err = r.Seek(-1, io.SeekStart)
	require.Error(t, err)
	require.NoError(t, r.Close())
}

// testServeContent shows the intended HTTP use: Open, set the content type,
// and let http.ServeContent answer Range requests from the seeker.
func testServeContent(t *testing.T, h harness) {
	ctx := t.Context()
	const key = "calls/serve/recording.wav"
	data := payload(10_000, 6)
	_, err := h.store.Put(ctx, key, bytes.NewReader(data), blob.PutOptions{ContentType: "audio/wav"})
	require.NoError(t, err)

	serve := func(rangeHeader string) *httptest.ResponseRecorder {
		t.Helper()
		r, obj, err := h.store.Open(ctx, key)
		require.NoError(t, err)
		defer r.Close()
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/recording", nil)
		if rangeHeader != "" {
			req.Header.Set("Range", rangeHeader)
		}
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", obj.ContentType)
		http.ServeContent(rec, req, "", obj.ModTime, r)
		return rec
	}

	cases := []struct {
		rangeHeader  string
		status       int
		contentRange string
		body         []byte
	}{
		{"", http.StatusOK, "", data},
		{"bytes=0-99", http.StatusPartialContent, "bytes 0-99/10000", data[:100]},
		{"bytes=4000-4999", http.StatusPartialContent, "bytes 4000-4999/10000", data[4000:5000]},
		{"bytes=-100", http.StatusPartialContent, "bytes 9900-9999/10000", data[9900:]},
		{"bytes=9000-", http.StatusPartialContent, "bytes 9000-9999/10000", data[9000:]},
		{"bytes=20000-", http.StatusRequestedRangeNotSatisfiable, "bytes */10000", nil},
	}
	for _, c := range cases {
		rec := serve(c.rangeHeader)
		require.Equal(t, c.status, rec.Code, c.rangeHeader)
		require.Equal(t, c.contentRange, rec.Header().Get("Content-Range"), c.rangeHeader)
		if c.body != nil {
			require.Equal(t, c.body, rec.Body.Bytes(), c.rangeHeader)
			require.Equal(t, "audio/wav", rec.Header().Get("Content-Type"), c.rangeHeader)
		}
	}

	rec := serve("bytes=0-9,-10")
	require.Equal(t, http.StatusPartialContent, rec.Code)
	mediaType, params, err := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/byteranges", mediaType)
	mr := multipart.NewReader(rec.Body, params["boundary"])
	var parts [][]byte
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		parts = append(parts, readAll(t, p))
	}
	require.Equal(t, [][]byte{data[:10], data[9990:]}, parts)
}

func testNotFound(t *testing.T, h harness) {
	ctx := t.Context()
	_, err := h.store.Put(ctx, "calls/present/recording.wav", strings.NewReader("x"), blob.PutOptions{})
	require.NoError(t, err)
	// Absent keys, including a prefix of a stored key, which is no object.
	for _, key := range []string{"calls/absent.wav", "calls/present", "calls"} {
		_, err := h.store.Stat(ctx, key)
		require.ErrorIs(t, err, blob.ErrNotFound, key)
		require.True(t, fault.Is(err, fault.NotFound), key)
		_, _, err = h.store.Get(ctx, key)
		require.ErrorIs(t, err, blob.ErrNotFound, key)
		_, _, err = h.store.GetRange(ctx, key, 0, 1)
		require.ErrorIs(t, err, blob.ErrNotFound, key)
		_, _, err = h.store.Open(ctx, key)
		require.ErrorIs(t, err, blob.ErrNotFound, key)
		require.NoError(t, h.store.Delete(ctx, key), key)
	}
	_, err = h.store.Stat(ctx, "calls/present/recording.wav")
	require.NoError(t, err, "deleting a prefix leaves the objects under it")
}

// hostileKeys are keys that must never reach a backend.
var hostileKeys = []string{
	"",
	".",
	"..",
	"../secret.txt",
	"../../etc/passwd",
	"calls/../../secret.txt",
	"calls/..",
	"calls/./x",
	"/etc/passwd",
	"/abs",
	"calls//x",
	"calls/",
	".hidden",
	"calls/.tmp-AAAA",
	"-flag",
	`calls\..\secret.txt`,
	"calls/x\x00.wav",
	"calls/x\n.wav",
	"calls/x y.wav",
	"calls/%2e%2e/x",
	"calls/ré.wav",
	"calls/x?y",
	"calls/*",
	"~/x",
	strings.Repeat("a", blob.MaxKeyLen+1),
	"calls/" + strings.Repeat("b", 201),
}

func testHostileKeys(t *testing.T, h harness) {
	ctx := t.Context()
	for _, key := range hostileKeys {
		check := func(op string, err error) {
			t.Helper()
			require.ErrorIs(t, err, blob.ErrInvalidKey, "%s %q", op, key)
			require.Equal(t, fault.Invalid, fault.CodeOf(err), "%s %q", op, key)
		}
		_, err := h.store.Put(ctx, key, strings.NewReader("hostile"), blob.PutOptions{})
		check("Put", err)
		_, _, err = h.store.Get(ctx, key)
		check("Get", err)
		_, _, err = h.store.GetRange(ctx, key, 0, 1)
		check("GetRange", err)
		_, _, err = h.store.Open(ctx, key)
		check("Open", err)
		_, err = h.store.Stat(ctx, key)
		check("Stat", err)
		check("Delete", h.store.Delete(ctx, key))
	}
	require.Empty(t, h.stored(t))
}

func testConcurrentPuts(t *testing.T, h harness) {
	ctx := t.Context()
	const n = 16
	datas := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		datas[i] = payload(20_000+i*997, uint64(100+i))
		wg.Go(func() {
			_, errs[i] = h.store.Put(ctx, fmt.Sprintf("concurrent/dir/obj-%02d", i), bytes.NewReader(datas[i]), blob.PutOptions{})
		})
	}
	wg.Wait()
	want := make([]string, n)
	for i := range n {
		require.NoError(t, errs[i])
		key := fmt.Sprintf("concurrent/dir/obj-%02d", i)
		want[i] = h.prefix + key
		rc, obj, err := h.store.Get(ctx, key)
		require.NoError(t, err)
		require.Equal(t, datas[i], readAll(t, rc), key)
		require.Equal(t, sum(datas[i]), obj.SHA256, key)
	}
	require.Equal(t, want, h.stored(t))
}

func testConcurrentPutsOneKey(t *testing.T, h harness) {
	ctx := t.Context()
	const n = 8
	const key = "concurrent/same"
	datas := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		datas[i] = payload(30_000+i*1013, uint64(200+i))
		wg.Go(func() {
			_, errs[i] = h.store.Put(ctx, key, bytes.NewReader(datas[i]), blob.PutOptions{})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	rc, obj, err := h.store.Get(ctx, key)
	require.NoError(t, err)
	got := readAll(t, rc)
	i := slices.IndexFunc(datas, func(d []byte) bool { return bytes.Equal(d, got) })
	require.GreaterOrEqual(t, i, 0, "the stored object is one of the versions, whole")
	require.Equal(t, sum(datas[i]), obj.SHA256, "and its metadata belongs to that version")
	require.Equal(t, []string{h.prefix + key}, h.stored(t))
}

// --- setup and helpers ---

func setupFS(t *testing.T) *blob.FS {
	t.Helper()
	s, err := blob.NewFS(filepath.Join(t.TempDir(), "blobs"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// fakeS3 is an in-process gofakes3 server on loopback and a store on it.
type fakeS3 struct {
	store  *blob.S3
	client *s3.Client
	bucket string
	url    string
	log    *requestLog
}

// requestLog records the requests the fake server received.
type requestLog struct {
	mu   sync.Mutex
	reqs []loggedRequest
}

type loggedRequest struct {
	Method, Path, Range, IfMatch string
}

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, loggedRequest{Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"), IfMatch: r.Header.Get("If-Match")})
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// take returns the requests logged since the last call.
func (l *requestLog) take() []loggedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	reqs := l.reqs
	l.reqs = nil
	return reqs
}

func (f fakeS3) keys(t *testing.T) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(f.client, &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		require.NoError(t, err)
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys
}

func setupS3(t *testing.T, prefix string, opts ...blob.S3Option) fakeS3 {
	t.Helper()
	log := &requestLog{}
	srv := httptest.NewServer(log.wrap(gofakes3.New(s3mem.New()).Server())) // 127.0.0.1
	t.Cleanup(srv.Close)
	client := newS3Client(srv.URL)
	const bucket = "autopulse-test"
	_, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	store, err := blob.NewS3(client, bucket, prefix, opts...)
	require.NoError(t, err)
	log.take()
	return fakeS3{store: store, client: client, bucket: bucket, url: srv.URL, log: log}
}

func newS3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
	})
}

// filesUnder lists every non-directory under dir, slash-separated.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	require.NoError(t, err)
	slices.Sort(names)
	return names
}

// payload returns n deterministic pseudo-random bytes.
func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	if c, ok := r.(io.Closer); ok {
		require.NoError(t, c.Close())
	}
	return b
}

// requireObject compares everything but ModTime, which must be set.
func requireObject(t *testing.T, want, got blob.Object) {
	t.Helper()
	require.False(t, got.ModTime.IsZero(), "ModTime is set")
	got.ModTime = want.ModTime
	require.Equal(t, want, got)
}
