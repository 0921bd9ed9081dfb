package ociimage

import (
	"strings"
	"testing"
)

// FuzzStripUserinfo checks stripUserinfo on any reference: it only ever
// cuts a prefix, and a user:password@ before a registry with a path is
// always gone.
func FuzzStripUserinfo(f *testing.F) {
	for _, seed := range []string{
		"user:pass@registry:5000/app:v1", "https://user:pass@registry/app", "user:pass@registry",
		"registry/app@sha256:abc", "app@sha256:abc", "a@b@registry/app", "", "@", "://",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		got := stripUserinfo(ref)
		if !strings.HasSuffix(ref, got) {
			t.Fatalf("stripUserinfo(%q) = %q, not a suffix of the reference", ref, got)
		}
		host, rest, hasPath := strings.Cut(got, "/")
		if hasPath && strings.Contains(host, "@") {
			t.Fatalf("stripUserinfo(%q) = %q, still with userinfo before the path", ref, got)
		}
		// The same reference behind credentials loses them again.
		if hasPath && !strings.Contains(got, "://") {
			if again := stripUserinfo("bot:s3cret@" + got); again != got {
				t.Fatalf("stripUserinfo(bot:s3cret@%q) = %q, want %q (rest %q)", got, again, got, rest)
			}
		}
	})
}
