package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"shorter than the limit", "abc", 5, "abc"},
		{"exactly the limit", "abcde", 5, "abcde"},
		{"cut with an ellipsis", "abcdef", 3, "abc…"},
		{"empty", "", 0, ""},
		{"a cut inside a character backs up to its start", "déjà vu", 2, "d…"},
		{"a cut after a whole character keeps it", "déjà vu", 3, "dé…"},
		{"a four-byte character", "a🚀b", 4, "a…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := truncate(tc.in, tc.n)
			if got != tc.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("truncate(%q, %d) = %q is not valid UTF-8", tc.in, tc.n, got)
			}
		})
	}
}

func FuzzTruncate(f *testing.F) {
	for _, seed := range []string{"", "abc", "déjà vu", strings.Repeat("é", 100)} {
		f.Add(seed, 3)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || !utf8.ValidString(s) {
			return
		}
		got := truncate(s, n)
		if len(s) <= n {
			if got != s {
				t.Errorf("truncate(%q, %d) = %q, want it unchanged", s, n, got)
			}
			return
		}
		kept := strings.TrimSuffix(got, "…")
		if !strings.HasSuffix(got, "…") || len(kept) > n || !strings.HasPrefix(s, kept) || !utf8.ValidString(got) {
			t.Errorf("truncate(%q, %d) = %q, want a valid prefix of at most %d bytes and an ellipsis", s, n, got, n)
		}
	})
}
