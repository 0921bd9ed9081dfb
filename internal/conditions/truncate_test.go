package conditions

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncateWithALimitShorterThanTheNote(t *testing.T) {
	for _, max := range []int{0, 1, 5, 20} {
		got := Truncate("déjà vu, déjà vu, déjà vu, déjà vu", max)
		if len(got) > max || !utf8.ValidString(got) || !strings.HasPrefix("déjà vu, déjà vu, déjà vu, déjà vu", got) {
			t.Errorf("Truncate(…, %d) = %q, want a valid prefix of at most %d bytes", max, got, max)
		}
	}
}

// FuzzTruncate: whatever the message and the limit, the result fits, is
// valid UTF-8 when the message is, and starts with the message's start.
func FuzzTruncate(f *testing.F) {
	f.Add("apply failed", 40)
	f.Add(strings.Repeat("é", 50), 40)
	f.Add(strings.Repeat("x", 100), 3)
	f.Fuzz(func(t *testing.T, message string, max int) {
		if max < 0 || !utf8.ValidString(message) {
			return
		}
		got := Truncate(message, max)
		if len(got) > max && len(message) > max {
			t.Errorf("Truncate(%q, %d) = %q, %d bytes", message, max, got, len(got))
		}
		if !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q is not valid UTF-8", message, max, got)
		}
		kept, _, _ := strings.Cut(got, " … (")
		if !strings.HasPrefix(message, kept) {
			t.Errorf("Truncate(%q, %d) = %q does not start with the message", message, max, got)
		}
	})
}
