package commitmsg_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/internal/image/commitmsg"
)

// A width from an argument after an index (%[1]*d) made printf build a
// string as long as the argument says, before the message bound saw it;
// a zero flag before a width under 1000 (%0512d) was refused as if it were
// a fifth digit.
func TestPrintfRefusesWidthsThatCouldFillMemory(t *testing.T) {
	for _, format := range []string{
		`%1000d`, `%-01000s`, `%*d`, `%.1000s`, `%5.99999f`, `%+# 01000x`,
		`%[1]*d`, `%[2]*[1]d`, `%.[1]*d`, `ok %d then %[1]*d`,
	} {
		t.Run(format, func(t *testing.T) {
			got, err := commitmsg.Render(`{{ printf "`+format+`" 100000000 1 }}`, commitmsg.Data{})
			if !errors.Is(err, commitmsg.ErrTemplate) || !strings.Contains(err.Error(), "printf widths of 1000 or more (or *) are refused") {
				t.Fatalf("rendered %d bytes, error = %v", len(got), err)
			}
		})
	}
}

func TestPrintfAllowsWidthsUnder1000(t *testing.T) {
	tests := []struct{ format, want string }{
		{`%0999d|`, strings.Repeat("0", 998) + "7|"},
		{`%03d`, "007"},
		{`%%1000d`, "%1000d%!(EXTRA int=7)"},
		{`%[1]d-%[1]d`, "7-7"},
		{`%.3d`, "007"},
		{`%-5d|`, "7    |"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			got, err := commitmsg.Render(`{{ printf "`+tt.format+`" 7 }}`, commitmsg.Data{})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want+"\n" {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
		})
	}
}
