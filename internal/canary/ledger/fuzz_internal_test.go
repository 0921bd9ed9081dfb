package ledger

import (
	"strings"
	"testing"
)

// FuzzCommitOf: a revision names its commit only as 40 lower-case hex
// digits after "sha1:" at its start or after '@', and the commit is what
// the revision ends with.
func FuzzCommitOf(f *testing.F) {
	for _, seed := range []string{
		"main@sha1:0123456789abcdef0123456789abcdef01234567",
		"sha1:0123456789abcdef0123456789abcdef01234567",
		"v1@sha1:0123456789ABCDEF0123456789abcdef01234567",
		"fixsha1:0123456789abcdef0123456789abcdef01234567",
		"main@sha1:sha1:0123456789abcdef0123456789abcdef01234567",
		"main@sha256:0123",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, revision string) {
		c := commitOf(revision)
		if c == "" {
			return
		}
		if len(c) != 40 || !isHex(c) {
			t.Fatalf("commitOf(%q) = %q, not 40 lower-case hex digits", revision, c)
		}
		prefix, ok := strings.CutSuffix(revision, "sha1:"+c)
		if !ok {
			t.Fatalf("commitOf(%q) = %q, which the revision does not end with", revision, c)
		}
		if prefix != "" && !strings.HasSuffix(prefix, "@") {
			t.Fatalf("commitOf(%q) = %q, but sha1: follows %q, not '@'", revision, c, prefix)
		}
	})
}

// FuzzSplitImage: the repository and tag put back together are the image
// without its digest, and a tag never holds a '/' (a registry port is not
// a tag).
func FuzzSplitImage(f *testing.F) {
	for _, seed := range []string{
		"nginx", "nginx:1.25", "registry.local:5000/team/app", "registry.local:5000/team/app:v1@sha256:abc",
		"app@sha256:abc", ":", "a:b:c", "host:5000/x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, image string) {
		repo, tag := splitImage(image)
		name, _, _ := strings.Cut(image, "@")
		if strings.Contains(tag, "/") || strings.Contains(repo, "@") {
			t.Fatalf("splitImage(%q) = %q, %q", image, repo, tag)
		}
		if tag == "" && repo != name && repo+":" != name {
			t.Fatalf("splitImage(%q) = %q without a tag, want the name %q", image, repo, name)
		}
		if tag != "" && repo+":"+tag != name {
			t.Fatalf("splitImage(%q) = %q, %q; together they are not %q", image, repo, tag, name)
		}
	})
}

// FuzzAppendLines: the note is kept as it was at the start, every
// non-empty line is in the result, and appending the same lines again
// adds nothing (a retried push writes no duplicate).
func FuzzAppendLines(f *testing.F) {
	f.Add("", "a\nb")
	f.Add("kept by hand", "a")
	f.Add("a\n", "a\n\nb\nb")
	f.Fuzz(func(t *testing.T, note, added string) {
		lines := strings.Split(added, "\n")
		got, _ := appendLines(note, lines)
		if !strings.HasPrefix(got, note) {
			t.Fatalf("appendLines(%q, %q) = %q, which does not start with the note", note, lines, got)
		}
		have := map[string]bool{}
		for l := range strings.SplitSeq(got, "\n") {
			have[l] = true
		}
		for _, l := range lines {
			if l != "" && !have[l] {
				t.Fatalf("appendLines(%q, %q) = %q, without the line %q", note, lines, got, l)
			}
		}
		again, added2 := appendLines(got, lines)
		if added2 || again != got {
			t.Fatalf("appending %q again to %q added %q", lines, got, strings.TrimPrefix(again, got))
		}
	})
}
