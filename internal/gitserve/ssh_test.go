package gitserve

import "testing"

func TestSQDequote(t *testing.T) {
	for in, want := range map[string]string{
		"'a.git'":         "a.git",
		`'it'\''s.git'`:   "it's.git",
		`'a'\!'b.git'`:    "a!b.git",
		"plain.git":       "plain.git",
		"'/dir/name.git'": "/dir/name.git",
	} {
		if got, err := sqDequote(in); err != nil || got != want {
			t.Errorf("sqDequote(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"'open", "'a'b'", "a b", `'a'\`} {
		if got, err := sqDequote(in); err == nil {
			t.Errorf("sqDequote(%q) = %q, want error", in, got)
		}
	}
}
