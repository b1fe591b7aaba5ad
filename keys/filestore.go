package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/puente-id/puente/internal/atomicfile"
)

// FileStore is the embedded [Store]: one directory per entry under a root,
// one file per version named "@00000001.age", each an age file sealed to
// the node identity and to the store's custodians, holding the entry's
// envelope (data bound to name, version, creation time, algorithm and
// custodian names). Files and directories are created with modes 0600 and
// 0700. Writes are atomic (see writeFileAtomic): a crash during Put leaves
// the previous version current and readable.
//
// A version file copied to another entry or to another version number is
// refused on read. Removing the newest version files, or restoring an
// older copy of the whole directory, rolls an entry back and cannot be
// seen from the directory alone: keep it writable only by the node's
// account (SECURITY.md, "Rollback").
//
// Several processes may share a root: a new version is put in place with
// link(2), which fails if another writer got there first, so check-and-set
// holds across processes too.
type FileStore struct {
	root       string
	id         *Identity
	custodians []Custodian
	rcpts      []age.Recipient
	now        func() time.Time
	mu         sync.Mutex       // serialises this process's writers
	midWrite   func(tmp string) // set only by this package's crash test (writeFileAtomic)
}

var _ Store = (*FileStore)(nil)

// FileStoreOptions configure [OpenFileStore].
type FileStoreOptions struct {
	// Custodians can each recover every entry written from now on with
	// their own age identity. Their recipients must be of the node
	// identity's kind (all post-quantum or all classical).
	Custodians []Custodian
	// Now is the clock for creation times; nil means time.Now.
	Now func() time.Time
}

// OpenFileStore opens (creating if needed, mode 0700) the store at root.
func OpenFileStore(root string, id *Identity, opts FileStoreOptions) (*FileStore, error) {
	if id == nil {
		panic("keys: OpenFileStore with nil identity")
	}
	rcpts, err := recipients(id, opts.Custodians)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("keys: file store %s: %w", root, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &FileStore{root: root, id: id, custodians: slices.Clone(opts.Custodians), rcpts: rcpts, now: now}, nil
}

// Root returns the store's directory.
func (s *FileStore) Root() string { return s.root }

func (s *FileStore) dir(name string) string { return filepath.Join(s.root, filepath.FromSlash(name)) }

func versionFile(v int) string { return fmt.Sprintf("@%08d.age", v) }

// versions lists the versions present in an entry's directory, ascending.
func versions(dir string) ([]int, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var vs []int
	for _, de := range des {
		n := de.Name()
		if !de.Type().IsRegular() || !strings.HasPrefix(n, "@") || !strings.HasSuffix(n, ".age") {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSuffix(n[1:], ".age"))
		if err != nil || v <= 0 || n != versionFile(v) {
			continue
		}
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs, nil
}

func (s *FileStore) currentVersions(op, name string) ([]int, error) {
	vs, err := versions(s.dir(name))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(vs) == 0) {
		return nil, &KeyError{Op: op, Name: name, Err: ErrNotFound}
	}
	if err != nil {
		return nil, &KeyError{Op: op, Name: name, File: s.dir(name), Err: fsErr(err)}
	}
	return vs, nil
}

func fsErr(err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w: %v", ErrPermission, err)
	}
	return err
}

// Get implements [Store].
func (s *FileStore) Get(ctx context.Context, name string, version int) (*Entry, error) {
	if err := checkName("get", name); err != nil {
		return nil, err
	}
	vs, err := s.currentVersions("get", name)
	if err != nil {
		return nil, err
	}
	if version == 0 {
		version = vs[len(vs)-1]
	} else if !slices.Contains(vs, version) {
		return nil, &KeyError{Op: "get", Name: name, Err: fmt.Errorf("version %d: %w", version, ErrNotFound)}
	}
	env, err := s.open(name, version)
	if err != nil {
		return nil, err
	}
	// open made env.data a copy of its own; the Entry takes it over.
	return &Entry{Info: infoFrom(env, vs), Data: &Secret{b: env.data}}, nil
}

// open reads, decrypts and checks one version file. The envelope's data is
// a fresh copy the caller owns; the decrypted buffer is zeroed.
func (s *FileStore) open(name string, version int) (*envelope, error) {
	path := filepath.Join(s.dir(name), versionFile(version))
	fail := func(err error) (*envelope, error) {
		return nil, &KeyError{Op: "get", Name: name, File: path, Err: err}
	}
	f, err := os.Open(path)
	if err != nil {
		return fail(fsErr(err))
	}
	defer f.Close()
	r, err := age.Decrypt(f, s.id.id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return fail(ErrWrongIdentity)
		}
		return fail(fmt.Errorf("%w: %v", ErrCorrupt, err))
	}
	plain, err := io.ReadAll(io.LimitReader(r, maxEntrySize+4096))
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrCorrupt, err))
	}
	env, err := unmarshalEnvelope(plain)
	if err != nil {
		clear(plain)
		return fail(err)
	}
	if env.name != name || env.version != version {
		clear(plain)
		return fail(fmt.Errorf("%w: file holds %q version %d, not this entry (moved or copied file)", ErrCorrupt, env.name, env.version))
	}
	env.data = bytes.Clone(env.data)
	clear(plain)
	return env, nil
}

func infoFrom(env *envelope, vs []int) Info {
	return Info{Name: env.name, Version: env.version, Versions: vs, Created: env.created,
		Algorithm: env.algorithm, Custodians: env.custodians}
}

// Put implements [Store].
func (s *FileStore) Put(ctx context.Context, name string, data []byte, opts PutOptions) (int, error) {
	if err := checkName("put", name); err != nil {
		return 0, err
	}
	if opts.Algorithm == "" {
		return 0, &KeyError{Op: "put", Name: name, Err: errors.New("no algorithm given")}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := s.dir(name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, &KeyError{Op: "put", Name: name, File: dir, Err: fsErr(err)}
	}
	vs, err := versions(dir)
	if err != nil {
		return 0, &KeyError{Op: "put", Name: name, File: dir, Err: fsErr(err)}
	}
	cur := 0
	if len(vs) > 0 {
		cur = vs[len(vs)-1]
	}
	if opts.CAS != NoCAS && opts.CAS != cur {
		return 0, &KeyError{Op: "put", Name: name, Err: fmt.Errorf("%w: expected version %d, current is %d", ErrCASConflict, opts.CAS, cur)}
	}
	env := &envelope{name: name, version: cur + 1, created: s.now().UTC(), algorithm: opts.Algorithm, data: data}
	for _, c := range s.custodians {
		env.custodians = append(env.custodians, c.Name)
	}
	sealed, err := s.seal(env)
	if err != nil {
		return 0, &KeyError{Op: "put", Name: name, Err: err}
	}
	path := filepath.Join(dir, versionFile(cur+1))
	if err := writeFileAtomic(path, sealed, false, s.midWrite); err != nil {
		if isExist(err) {
			err = fmt.Errorf("%w: version %d was written by another process", ErrCASConflict, cur+1)
		}
		return 0, &KeyError{Op: "put", Name: name, File: path, Err: fsErr(err)}
	}
	return cur + 1, nil
}

func (s *FileStore) seal(env *envelope) ([]byte, error) {
	plain, err := env.marshal()
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	var out bytes.Buffer
	w, err := age.Encrypt(&out, s.rcpts...)
	if err != nil {
		return nil, fmt.Errorf("sealing: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("sealing: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("sealing: %w", err)
	}
	return out.Bytes(), nil
}

// Stat implements [Store]. It decrypts the current version to read its
// authenticated metadata.
func (s *FileStore) Stat(ctx context.Context, name string) (Info, error) {
	e, err := s.Get(ctx, name, 0)
	if err != nil {
		var ke *KeyError
		if errors.As(err, &ke) {
			ke.Op = "stat"
		}
		return Info{}, err
	}
	e.Zero()
	return e.Info, nil
}

// List implements [Store].
func (s *FileStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	var names []string
	err := filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || path == s.root {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(s.root, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if vs, err := versions(path); err == nil && len(vs) > 0 && ValidName(name) && matchPrefix(name, prefix) {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, &KeyError{Op: "list", Name: prefix, File: s.root, Err: fsErr(err)}
	}
	slices.Sort(names)
	return names, nil
}

// Destroy implements [Store]: it removes every version file, oldest first,
// then the entry's directory if nothing else is left in it.
func (s *FileStore) Destroy(ctx context.Context, name string) error {
	if err := checkName("destroy", name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vs, err := s.currentVersions("destroy", name)
	if err != nil {
		return err
	}
	dir := s.dir(name)
	for _, v := range vs {
		if err := os.Remove(filepath.Join(dir, versionFile(v))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return &KeyError{Op: "destroy", Name: name, File: dir, Err: fsErr(err)}
		}
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return &KeyError{Op: "destroy", Name: name, File: dir, Err: err}
	}
	if os.Remove(dir) == nil {
		_ = atomicfile.SyncDir(filepath.Dir(dir))
	}
	return nil
}
