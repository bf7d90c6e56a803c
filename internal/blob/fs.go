package blob

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"
)

// FS stores objects as files under a root directory.
//
// The object with key "calls/0192/rec.wav" is the file
// <root>/calls/0192/rec.wav. The file starts with the object's bytes, so a
// media player or `head -c SIZE` reads it as it is, and ends with a trailer:
//
//	content | metadata JSON | JSON length (uint32, big-endian) | "APBLOB1\n"
//
// where the JSON is {"v":1,"size":N,"content_type":"…","sha256":"…"}.
// Keeping the metadata in the file rather than in a sidecar means the one
// rename that publishes a Put replaces content and metadata together, so a
// reader never pairs new bytes with an old digest. Extended attributes
// would do the same but are missing on some file systems that laptops and
// container volumes use.
//
// A Put writes <dir>/.tmp-<random> (mode 0600) beside the target, fsyncs it,
// renames it over the key and fsyncs the directory; directories it creates
// are 0700 and fsynced into their parents. A crash can leave a .tmp- file
// behind but never a torn object; SweepTemp removes such leftovers.
//
// Two differences from S3 follow from using a real directory tree: a key
// cannot be both an object and a prefix of other keys ("a" and "a/b"), and
// on a case-insensitive file system keys that differ only in case collide.
// Delete leaves directories in place, even empty ones, so that it never
// races a Put into the same directory.
type FS struct {
	dir  string
	root *os.Root
}

var _ Store = (*FS)(nil)

const (
	fsMagic      = "APBLOB1\n"
	fsFooterLen  = 4 + len(fsMagic)
	fsMaxMetaLen = 4096
	fsMetaV1     = 1
	fsTempPrefix = ".tmp-"
	dirPerm      = 0o700
	filePerm     = 0o600
)

// fsMeta is the JSON in a file's trailer.
type fsMeta struct {
	Version     int    `json:"v"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
}

// errCorrupt marks a file under the root that is not a stored object (for
// instance one copied in by hand). It has no fault code: it is an internal
// error, not a missing object.
var errCorrupt = errors.New("file has no valid blob trailer")

// NewFS opens a file store rooted at dir, creating dir (mode 0700) if needed.
// Close releases it.
func NewFS(dir string) (*FS, error) {
	if dir == "" {
		return nil, errors.New("blob: the file store needs a directory")
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("blob: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", dir, err)
	}
	return &FS{dir: dir, root: root}, nil
}

// Dir returns the root directory.
func (s *FS) Dir() string { return s.dir }

// Close releases the root directory. Readers already returned stay valid.
func (s *FS) Close() error { return s.root.Close() }

// Put implements Store.
func (s *FS) Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	plan, err := opts.plan()
	if err != nil {
		return Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return Object{}, err
	}
	dir := path.Dir(key)
	if err := s.mkdirs(dir); err != nil {
		return Object{}, fmt.Errorf("blob %q: create directory: %w", key, err)
	}
	tmp, f, err := s.createTemp(dir)
	if err != nil {
		return Object{}, fmt.Errorf("blob %q: create temporary file: %w", key, err)
	}
	obj, err := writeObject(ctx, f, key, r, plan)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("blob %q: close: %w", key, cerr)
	}
	if err == nil {
		// A Put cancelled while it copied must not publish what it copied.
		err = ctx.Err()
	}
	if err == nil {
		if rerr := s.root.Rename(tmp, key); rerr != nil {
			err = fmt.Errorf("blob %q: publish: %w", key, rerr)
		}
	}
	if err != nil {
		_ = s.root.Remove(tmp)
		return Object{}, err
	}
	if err := s.syncDir(dir); err != nil {
		return Object{}, fmt.Errorf("blob %q: sync directory: %w", key, err)
	}
	return obj, nil
}

// writeObject streams r into f, checks it, and appends the trailer.
func writeObject(ctx context.Context, f *os.File, key string, r io.Reader, plan putPlan) (Object, error) {
	src := newCapped(ctx, r, plan.maxBytes)
	if _, err := io.Copy(f, src); err != nil {
		return Object{}, fmt.Errorf("blob %q: copy: %w", key, err)
	}
	size, sum, err := src.result(key)
	if err != nil {
		return Object{}, err
	}
	if err := plan.check(key, sum); err != nil {
		return Object{}, err
	}
	meta, err := json.Marshal(fsMeta{Version: fsMetaV1, Size: size, ContentType: plan.contentType, SHA256: sum})
	if err != nil {
		return Object{}, fmt.Errorf("blob %q: encode metadata: %w", key, err)
	}
	footer := make([]byte, 4, fsFooterLen)
	binary.BigEndian.PutUint32(footer, uint32(len(meta)))
	footer = append(footer, fsMagic...)
	if _, err := f.Write(append(meta, footer...)); err != nil {
		return Object{}, fmt.Errorf("blob %q: write metadata: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return Object{}, fmt.Errorf("blob %q: sync: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return Object{}, fmt.Errorf("blob %q: stat: %w", key, err)
	}
	return Object{Key: key, Size: size, ContentType: plan.contentType, SHA256: sum, ModTime: fi.ModTime()}, nil
}

// mkdirs creates the directories of dir one by one, fsyncing each new one
// into its parent so that a published object cannot lose its directory in
// a crash.
func (s *FS) mkdirs(dir string) error {
	if dir == "." {
		return nil
	}
	parent := "."
	for seg := range strings.SplitSeq(dir, "/") {
		p := path.Join(parent, seg)
		switch err := s.root.Mkdir(p, dirPerm); {
		case err == nil:
			if err := s.syncDir(parent); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
		default:
			return err
		}
		parent = p
	}
	return nil
}

func (s *FS) createTemp(dir string) (string, *os.File, error) {
	for {
		name := path.Join(dir, fsTempPrefix+rand.Text())
		f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
		if errors.Is(err, fs.ErrExist) {
			continue // 130 random bits: this does not loop in practice
		}
		return name, f, err
	}
}

func (s *FS) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// open opens the object's file and reads its trailer.
func (s *FS) open(ctx context.Context, key string) (*os.File, Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, Object{}, err
	}
	f, err := s.root.Open(key)
	if err != nil {
		if isNotExist(err) {
			return nil, Object{}, fmt.Errorf("blob %q: %w", key, ErrNotFound)
		}
		return nil, Object{}, fmt.Errorf("blob %q: open: %w", key, err)
	}
	obj, err := readTrailer(f, key)
	if err != nil {
		_ = f.Close()
		return nil, Object{}, err
	}
	return f, obj, nil
}

func readTrailer(f *os.File, key string) (Object, error) {
	fi, err := f.Stat()
	if err != nil {
		return Object{}, fmt.Errorf("blob %q: stat: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		// A directory here is a prefix of other keys, not an object.
		return Object{}, fmt.Errorf("blob %q: %w", key, ErrNotFound)
	}
	size := fi.Size()
	corrupt := fmt.Errorf("blob %q: %w", key, errCorrupt)
	if size < int64(fsFooterLen) {
		return Object{}, corrupt
	}
	footer := make([]byte, fsFooterLen)
	if _, err := f.ReadAt(footer, size-int64(fsFooterLen)); err != nil {
		return Object{}, fmt.Errorf("blob %q: read trailer: %w", key, err)
	}
	if string(footer[4:]) != fsMagic {
		return Object{}, corrupt
	}
	n := int64(binary.BigEndian.Uint32(footer[:4]))
	if n > fsMaxMetaLen || n > size-int64(fsFooterLen) {
		return Object{}, corrupt
	}
	raw := make([]byte, n)
	if _, err := f.ReadAt(raw, size-int64(fsFooterLen)-n); err != nil {
		return Object{}, fmt.Errorf("blob %q: read trailer: %w", key, err)
	}
	var m fsMeta
	if err := json.Unmarshal(raw, &m); err != nil || m.Version != fsMetaV1 || m.Size != size-int64(fsFooterLen)-n {
		return Object{}, corrupt
	}
	return Object{Key: key, Size: m.Size, ContentType: m.ContentType, SHA256: m.SHA256, ModTime: fi.ModTime()}, nil
}

// fileSection reads a window of an object's file and closes the file.
type fileSection struct {
	*io.SectionReader
	f *os.File
}

func (r fileSection) Close() error { return r.f.Close() }

// Get implements Store.
func (s *FS) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	return s.Open(ctx, key)
}

// GetRange implements Store.
func (s *FS) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Object{}, err
	}
	if err := checkRangeArgs(key, offset, length); err != nil {
		return nil, Object{}, err
	}
	f, obj, err := s.open(ctx, key)
	if err != nil {
		return nil, Object{}, err
	}
	n, err := clampRange(key, offset, length, obj.Size)
	if err != nil {
		_ = f.Close()
		return nil, Object{}, err
	}
	return fileSection{io.NewSectionReader(f, offset, n), f}, obj, nil
}

// Open implements Store. The reader keeps the file open, so it reads the
// version it opened even if a Put replaces the key meanwhile.
func (s *FS) Open(ctx context.Context, key string) (io.ReadSeekCloser, Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Object{}, err
	}
	f, obj, err := s.open(ctx, key)
	if err != nil {
		return nil, Object{}, err
	}
	return fileSection{io.NewSectionReader(f, 0, obj.Size), f}, obj, nil
}

// Stat implements Store.
func (s *FS) Stat(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	f, obj, err := s.open(ctx, key)
	if err != nil {
		return Object{}, err
	}
	_ = f.Close()
	return obj, nil
}

// Delete implements Store.
func (s *FS) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := s.root.Lstat(key)
	switch {
	case isNotExist(err):
		return nil
	case err != nil:
		return fmt.Errorf("blob %q: stat: %w", key, err)
	case fi.IsDir():
		return nil // a prefix of other keys, not an object
	}
	if err := s.root.Remove(key); err != nil && !isNotExist(err) {
		return fmt.Errorf("blob %q: delete: %w", key, err)
	}
	if err := s.syncDir(path.Dir(key)); err != nil {
		return fmt.Errorf("blob %q: sync directory: %w", key, err)
	}
	return nil
}

// SweepTemp removes temporary files that a crashed Put left behind and that
// are older than olderThan (an hour is safe: no Put takes that long between
// two writes). It returns how many it removed.
func (s *FS) SweepTemp(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	err := fs.WalkDir(s.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) {
				return nil // removed while we walked
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), fsTempPrefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if isNotExist(err) {
				return nil
			}
			return err
		}
		if !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := s.root.Remove(p); err != nil {
			if isNotExist(err) {
				return nil
			}
			return err
		}
		removed++
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("blob: sweep temporary files: %w", err)
	}
	return removed, nil
}

// isNotExist reports a missing file, including a path whose parent is a
// file (key "a/b" when "a" is an object).
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
