package tagstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// ErrNotFound means no scan of the object is stored.
var ErrNotFound = errors.New("no tags stored")

// Key identifies one ImageRepository object.
type Key struct {
	Namespace, Name string
	UID             types.UID
}

func (k Key) String() string { return k.Namespace + "/" + k.Name + " (uid " + string(k.UID) + ")" }

// validate refuses keys that would name a file outside the object's own.
func (k Key) validate() error {
	for _, part := range []string{k.Namespace, k.Name, string(k.UID)} {
		if part == "" || !filepath.IsLocal(part) || strings.ContainsAny(part, `/\`) || part == "." {
			return fmt.Errorf("invalid tag store key %s: namespace, name and uid must be single path elements", k)
		}
	}
	return nil
}

func (k Key) dir() string  { return filepath.Join(k.Namespace, k.Name) }
func (k Key) file() string { return filepath.Join(k.dir(), string(k.UID)+".json") }

// Scan is one stored scan.
type Scan struct {
	// Revision is sha256:<hex> of the sorted tags.
	Revision string `json:"revision"`
	// Tags in sorted order.
	Tags []string `json:"tags"`
}

// Store keeps scans under a root directory.
type Store struct {
	root  string
	mu    sync.Mutex
	cache map[Key]Scan
}

// New returns a Store under root (created when first written).
func New(root string) *Store {
	return &Store{root: root, cache: map[Key]Scan{}}
}

// Revision returns the digest of a tag list, independent of its order.
func Revision(tags []string) string {
	sorted := slices.Sorted(slices.Values(tags))
	h := sha256.New()
	for _, t := range sorted {
		h.Write([]byte(t))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Write stores tags for k, replacing its previous scan and any scan of an
// earlier object of the same name, and returns the stored scan.
func (s *Store) Write(k Key, tags []string) (Scan, error) {
	if err := k.validate(); err != nil {
		return Scan{}, err
	}
	scan := Scan{Revision: Revision(tags), Tags: slices.Sorted(slices.Values(tags))}
	data, err := json.Marshal(scan)
	if err != nil {
		return Scan{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Join(s.root, k.dir())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Scan{}, fmt.Errorf("storing the tags of %s: %w", k, err)
	}
	tmp, err := os.CreateTemp(dir, ".tags-*")
	if err != nil {
		return Scan{}, fmt.Errorf("storing the tags of %s: %w", k, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close(), os.Rename(tmp.Name(), filepath.Join(s.root, k.file()))); err != nil {
		return Scan{}, fmt.Errorf("storing the tags of %s: %w", k, err)
	}
	s.cache[k] = scan
	s.removeOthers(k)
	return scan, nil
}

// removeOthers deletes the scans of earlier objects named like k.
func (s *Store) removeOthers(k Key) {
	entries, _ := os.ReadDir(filepath.Join(s.root, k.dir()))
	for _, e := range entries {
		if e.Name() != string(k.UID)+".json" && strings.HasSuffix(e.Name(), ".json") {
			os.Remove(filepath.Join(s.root, k.dir(), e.Name()))
		}
	}
	for other := range s.cache {
		if other.Namespace == k.Namespace && other.Name == k.Name && other.UID != k.UID {
			delete(s.cache, other)
		}
	}
}

// Read returns the stored scan of k, from memory or else from disk;
// ErrNotFound when there is none.
func (s *Store) Read(k Key) (Scan, error) {
	if err := k.validate(); err != nil {
		return Scan{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if scan, ok := s.cache[k]; ok {
		return scan, nil
	}
	data, err := os.ReadFile(filepath.Join(s.root, k.file()))
	if errors.Is(err, fs.ErrNotExist) {
		return Scan{}, fmt.Errorf("%w for ImageRepository %s", ErrNotFound, k)
	}
	if err != nil {
		return Scan{}, fmt.Errorf("reading the tags of %s: %w", k, err)
	}
	var scan Scan
	if err := json.Unmarshal(data, &scan); err != nil || scan.Revision != Revision(scan.Tags) {
		return Scan{}, fmt.Errorf("%w for ImageRepository %s: the stored file is damaged and will be replaced by the next scan", ErrNotFound, k)
	}
	s.cache[k] = scan
	return scan, nil
}

// Remove deletes every scan stored under k's namespace and name.
func (s *Store) Remove(k Key) error {
	if err := k.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for other := range s.cache {
		if other.Namespace == k.Namespace && other.Name == k.Name {
			delete(s.cache, other)
		}
	}
	return os.RemoveAll(filepath.Join(s.root, k.dir()))
}
