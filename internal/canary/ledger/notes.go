package ledger

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// NotesRef is the ref the ledger's notes live on.
const NotesRef = plumbing.ReferenceName("refs/notes/flotilla")

// maxNoteBytes bounds one note read back: a note past it is refused
// rather than loaded.
const maxNoteBytes = 8 << 20

// notesTree reads the tree of a notes commit; a zero hash is no notes yet.
func notesTree(s storer.EncodedObjectStorer, head plumbing.Hash) (*object.Tree, error) {
	if head.IsZero() {
		return nil, nil
	}
	c, err := object.GetCommit(s, head)
	if err != nil {
		return nil, fmt.Errorf("reading notes commit %s: %w", head, err)
	}
	return c.Tree()
}

// notePath finds the note of commit in tree: at the root under its full
// hex name, or under fanout directories (ab/cdef..., ab/cd/ef...) as git
// writes them once a notes tree grows. It returns the path's parts, nil
// when there is no note.
func notePath(tree *object.Tree, commit string) []string {
	if tree == nil {
		return nil
	}
	for _, e := range tree.Entries {
		switch {
		case e.Name == commit && e.Mode.IsFile():
			return []string{e.Name}
		case e.Mode == filemode.Dir && len(e.Name) == 2 && strings.HasPrefix(commit, e.Name):
			sub, err := tree.Tree(e.Name)
			if err != nil {
				continue
			}
			if rest := notePath(sub, commit[2:]); rest != nil {
				return append([]string{e.Name}, rest...)
			}
		}
	}
	return nil
}

// readNote returns the note of commit in tree, "" when there is none.
func readNote(tree *object.Tree, commit string) (string, []string, error) {
	path := notePath(tree, commit)
	if path == nil {
		return "", nil, nil
	}
	f, err := tree.File(strings.Join(path, "/"))
	if err != nil {
		return "", nil, fmt.Errorf("reading the note of %s: %w", commit, err)
	}
	text, err := blobText(f.Blob)
	return text, path, err
}

func blobText(b object.Blob) (string, error) {
	if b.Size > maxNoteBytes {
		return "", fmt.Errorf("note blob %s is %d bytes, over the %d read", b.Hash, b.Size, maxNoteBytes)
	}
	r, err := b.Reader()
	if err != nil {
		return "", err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	return string(data), err
}

// allNotes returns every note of tree by annotated commit.
func allNotes(tree *object.Tree) (map[string]string, error) {
	out := map[string]string{}
	if tree == nil {
		return out, nil
	}
	err := walkNotes(tree, "", func(name string, b *object.Blob) error {
		text, err := blobText(*b)
		out[name] = text
		return err
	})
	return out, err
}

func walkNotes(tree *object.Tree, prefix string, f func(string, *object.Blob) error) error {
	for _, e := range tree.Entries {
		name := prefix + e.Name
		switch {
		case e.Mode == filemode.Dir && len(e.Name) == 2:
			sub, err := tree.Tree(e.Name)
			if err != nil {
				return err
			}
			if err := walkNotes(sub, name, f); err != nil {
				return err
			}
		case e.Mode.IsFile() && isHex(name) && len(name) == 40:
			b, err := tree.TreeEntryFile(&e)
			if err != nil {
				return err
			}
			if err := f(name, &b.Blob); err != nil {
				return err
			}
		}
	}
	return nil
}

func isHex(s string) bool {
	return s != "" && strings.Trim(s, "0123456789abcdef") == ""
}

// setNote stores text as the note at path (its fanout kept) in tree and
// returns the new root tree's hash.
func setNote(s storer.EncodedObjectStorer, tree *object.Tree, path []string, text string) (plumbing.Hash, error) {
	blob, err := storeBlob(s, text)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return setEntry(s, tree, path, blob)
}

func setEntry(s storer.EncodedObjectStorer, tree *object.Tree, path []string, blob plumbing.Hash) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if tree != nil {
		entries = slices.Clone(tree.Entries)
	}
	entry := object.TreeEntry{Name: path[0], Mode: filemode.Regular, Hash: blob}
	if len(path) > 1 {
		var sub *object.Tree
		if tree != nil {
			sub, _ = tree.Tree(path[0])
		}
		h, err := setEntry(s, sub, path[1:], blob)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entry = object.TreeEntry{Name: path[0], Mode: filemode.Dir, Hash: h}
	}
	entries = slices.DeleteFunc(entries, func(e object.TreeEntry) bool { return e.Name == entry.Name })
	entries = append(entries, entry)
	slices.SortFunc(entries, func(a, b object.TreeEntry) int { return strings.Compare(sortName(a), sortName(b)) })
	return storeObject(s, &object.Tree{Entries: entries})
}

// sortName is the name git orders a tree entry by: directories as if
// their name ended in a slash.
func sortName(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

func storeBlob(s storer.EncodedObjectStorer, text string) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := io.WriteString(w, text); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// encoder is a tree or a commit.
type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func storeObject(s storer.EncodedObjectStorer, o encoder) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// Signature is who commits to the notes ref.
type Signature struct {
	Name, Email string
}

// commitNotes commits tree on top of parent (zero for the first notes
// commit) and returns the new notes commit.
func commitNotes(s storer.EncodedObjectStorer, parent, tree plumbing.Hash, sig Signature, msg string) (plumbing.Hash, error) {
	who := object.Signature{Name: sig.Name, Email: sig.Email, When: time.Now()}
	c := &object.Commit{Author: who, Committer: who, Message: msg, TreeHash: tree}
	if !parent.IsZero() {
		c.ParentHashes = []plumbing.Hash{parent}
	}
	return storeObject(s, c)
}

// appendLines adds the lines missing from note to its end, one per line;
// it reports whether anything was added.
func appendLines(note string, lines []string) (string, bool) {
	have := map[string]bool{}
	for l := range strings.SplitSeq(note, "\n") {
		have[l] = true
	}
	var b strings.Builder
	b.WriteString(note)
	if note != "" && !strings.HasSuffix(note, "\n") {
		b.WriteByte('\n')
	}
	added := false
	for _, l := range lines {
		if have[l] || l == "" {
			continue
		}
		have[l] = true
		b.WriteString(l)
		b.WriteByte('\n')
		added = true
	}
	return b.String(), added
}
