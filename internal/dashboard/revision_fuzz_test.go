package dashboard

import (
	"strings"
	"testing"
)

// FuzzRevisionHash checks revisionHash on any revision: it finds a hash
// only in the last 40 characters after the last colon, all hexadecimal,
// and returns exactly them.
func FuzzRevisionHash(f *testing.F) {
	for _, seed := range []string{
		"main@sha1:0123456789abcdef0123456789abcdef01234567",
		"sha1:0123456789ABCDEF0123456789ABCDEF01234567",
		"0123456789abcdef0123456789abcdef01234567",
		"main@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"main@sha1:short", "", ":", "main@sha1:",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rev string) {
		h, ok := revisionHash(rev)
		tail := rev[strings.LastIndex(rev, ":")+1:]
		isHex := len(tail) == 40 && strings.Trim(strings.ToLower(tail), "0123456789abcdef") == ""
		if ok != isHex {
			t.Fatalf("revisionHash(%q) ok = %t, want %t", rev, ok, isHex)
		}
		if ok && h.String() != strings.ToLower(tail) {
			t.Fatalf("revisionHash(%q) = %s, want %s", rev, h, strings.ToLower(tail))
		}
	})
}
