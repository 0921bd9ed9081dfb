package ledger

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
)

// Two annotated commits, as full hex SHA-1s.
const (
	commitA = "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12"
	commitB = "ff00ee11dd22cc33bb44aa5599887766554433ff"
)

// notesAt builds a notes tree in s with text at each path (slash
// separated, fanout included) and returns it.
func notesAt(t *testing.T, s *memory.Storage, notes map[string]string) *object.Tree {
	t.Helper()
	var tree *object.Tree
	for path, text := range notes {
		h, err := setNote(s, tree, strings.Split(path, "/"), text)
		if err != nil {
			t.Fatal(err)
		}
		if tree, err = object.GetTree(s, h); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

func TestNotePathFindsTheNoteAtTheRootOrUnderAnyFanout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		notes map[string]string
		want  []string
	}{
		{"at the root", map[string]string{commitA: "x"}, []string{commitA}},
		{"one fanout level", map[string]string{"ab/" + commitA[2:]: "x"}, []string{"ab", commitA[2:]}},
		{"two fanout levels", map[string]string{"ab/12/" + commitA[4:]: "x"}, []string{"ab", "12", commitA[4:]}},
		{"only another commit's note", map[string]string{commitB: "x", "ff/" + commitB[2:]: "y"}, nil},
		{"a fanout directory of the right prefix without the note", map[string]string{"ab/" + commitB[2:]: "x"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree := notesAt(t, memory.NewStorage(), tc.notes)
			if diff := cmp.Diff(tc.want, notePath(tree, commitA)); diff != "" {
				t.Errorf("notePath (-want +got):\n%s", diff)
			}
		})
	}
	if got := notePath(nil, commitA); got != nil {
		t.Errorf("notePath of no notes tree = %v, want nil", got)
	}
}

func TestReadNoteAfterSetNote(t *testing.T) {
	s := memory.NewStorage()
	tree := notesAt(t, s, map[string]string{"ab/" + commitA[2:]: "first line\n", commitB: "other\n"})
	text, path, err := readNote(tree, commitA)
	if err != nil || text != "first line\n" || !cmp.Equal(path, []string{"ab", commitA[2:]}) {
		t.Fatalf("readNote = %q, %v, %v", text, path, err)
	}

	h, err := setNote(s, tree, path, "first line\nsecond line\n")
	if err != nil {
		t.Fatal(err)
	}
	next, err := object.GetTree(s, h)
	if err != nil {
		t.Fatal(err)
	}
	got, err := allNotes(next)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{commitA: "first line\nsecond line\n", commitB: "other\n"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes after rewriting one under its fanout (-want +got):\n%s", diff)
	}
	if text, path, err := readNote(next, "0000000000000000000000000000000000000000"); text != "" || path != nil || err != nil {
		t.Errorf("readNote of a commit without a note = %q, %v, %v; want nothing", text, path, err)
	}
}

func TestAllNotesSkipsWhatIsNotANote(t *testing.T) {
	s := memory.NewStorage()
	tree := notesAt(t, s, map[string]string{
		commitA:                  "a",
		"ff/" + commitB[2:]:      "b",
		"README":                 "not a commit",
		"ab/short":               "too short a name",
		"abc/" + commitA[3:]:     "a three-letter directory is no fanout",
		strings.ToUpper(commitB): "upper-case hex is not how git names notes",
	})
	got, err := allNotes(tree)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{commitA: "a", commitB: "b"}, got); diff != "" {
		t.Errorf("allNotes (-want +got):\n%s", diff)
	}
	empty, err := allNotes(nil)
	if err != nil || empty == nil || len(empty) != 0 {
		t.Errorf("allNotes(nil) = %v, %v; want an empty map", empty, err)
	}
}

func TestSetEntryOrdersTheTreeAsGitDoes(t *testing.T) {
	s := memory.NewStorage()
	// Git sorts a directory as if its name ended in a slash: "ab-x" (a
	// file) comes before "ab" (a directory), as '-' < '/'.
	tree := notesAt(t, s, map[string]string{"ab/" + commitA[2:]: "a", "ab-x": "file", "aa": "file"})
	var names []string
	for _, e := range tree.Entries {
		names = append(names, e.Name)
	}
	if diff := cmp.Diff([]string{"aa", "ab-x", "ab"}, names); diff != "" {
		t.Errorf("tree entries (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		entry object.TreeEntry
		want  string
	}{
		{object.TreeEntry{Name: "ab", Mode: filemode.Dir}, "ab/"},
		{object.TreeEntry{Name: "ab", Mode: filemode.Regular}, "ab"},
		{object.TreeEntry{Name: "run", Mode: filemode.Executable}, "run"},
	} {
		if got := sortName(tc.entry); got != tc.want {
			t.Errorf("sortName(%s %v) = %q, want %q", tc.entry.Name, tc.entry.Mode, got, tc.want)
		}
	}
}

func TestIsHex(t *testing.T) {
	for s, want := range map[string]bool{
		"":         false,
		"0":        true,
		commitA:    true,
		"ABCDEF":   false,
		"ab12-":    false,
		"ab12 ":    false,
		"deadbeeg": false,
	} {
		if got := isHex(s); got != want {
			t.Errorf("isHex(%q) = %t, want %t", s, got, want)
		}
	}
}

func TestNotesCommitsChainAndAMissingOneIsAnError(t *testing.T) {
	s := memory.NewStorage()
	if tree, err := notesTree(s, plumbing.ZeroHash); tree != nil || err != nil {
		t.Errorf("notesTree(zero) = %v, %v; want no notes and no error", tree, err)
	}
	missing := plumbing.NewHash(commitB)
	if _, err := notesTree(s, missing); err == nil || !strings.Contains(err.Error(), "reading notes commit "+commitB) {
		t.Errorf("notesTree of a missing commit = %v, want it named", err)
	}

	tree := notesAt(t, s, map[string]string{commitA: "a\n"})
	sig := Signature{Name: "Ledger Bot", Email: "ledger@example.com"}
	first, err := commitNotes(s, plumbing.ZeroHash, tree.Hash, sig, "first")
	if err != nil {
		t.Fatal(err)
	}
	second, err := commitNotes(s, first, tree.Hash, sig, "second")
	if err != nil {
		t.Fatal(err)
	}
	c1, err := object.GetCommit(s, first)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := object.GetCommit(s, second)
	if err != nil {
		t.Fatal(err)
	}
	if len(c1.ParentHashes) != 0 || !cmp.Equal(c2.ParentHashes, []plumbing.Hash{first}) {
		t.Errorf("parents: first %v, second %v; want none, then the first", c1.ParentHashes, c2.ParentHashes)
	}
	if c2.Author.Name != "Ledger Bot" || c2.Committer.Email != "ledger@example.com" || c2.Message != "second" {
		t.Errorf("second notes commit: author %v, committer %v, message %q", c2.Author, c2.Committer, c2.Message)
	}
	got, err := notesTree(s, second)
	if err != nil || got.Hash != tree.Hash {
		t.Errorf("notesTree(second) = %v, %v; want the tree committed", got, err)
	}
}

func TestBlobTextRefusesANoteOverTheBound(t *testing.T) {
	b := object.Blob{Hash: plumbing.NewHash(commitA), Size: maxNoteBytes + 1}
	_, err := blobText(b)
	want := fmt.Sprintf("note blob %s is %d bytes, over the %d read", commitA, maxNoteBytes+1, maxNoteBytes)
	if err == nil || err.Error() != want {
		t.Errorf("blobText = %v, want %q", err, want)
	}
}

func TestRejectedKnowsALostRaceFromOtherErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{gogit.ErrNonFastForwardUpdate, true},
		{fmt.Errorf("push: %w", gogit.ErrNonFastForwardUpdate), true},
		{errors.New("! [rejected] refs/notes/flotilla (fetch first)"), true},
		{errors.New("remote: error: cannot lock ref 'refs/notes/flotilla'"), true},
		{errors.New("failed to update ref"), true},
		{errors.New("stale info"), true},
		{errors.New("authentication required"), false},
		{errors.New("connection refused"), false},
	} {
		if got := rejected(tc.err); got != tc.want {
			t.Errorf("rejected(%q) = %t, want %t", tc.err, got, tc.want)
		}
	}
}
