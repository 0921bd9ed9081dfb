package harness

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		quick     map[string]string
		wantRuns  int
		wantSize  int
		wantError string
	}{
		{name: "defaults", args: nil, wantRuns: 3, wantSize: 100},
		{name: "quick-shrinks", args: []string{"-quick"}, quick: map[string]string{"runs": "1", "size": "5"}, wantRuns: 1, wantSize: 5},
		{name: "explicit-flags-win-over-quick", args: []string{"-size", "7", "-quick"}, quick: map[string]string{"runs": "1", "size": "5"}, wantRuns: 1, wantSize: 7},
		{name: "quick-names-an-unknown-flag", args: []string{"-quick"}, quick: map[string]string{"sizes": "5"}, wantError: "-quick: -sizes"},
		{name: "stray-argument", args: []string{"now"}, wantError: "unexpected arguments"},
		{name: "bad-flag", args: []string{"-runs", "many"}, wantError: "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("bench", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			runs, size := fs.Int("runs", 3, ""), fs.Int("size", 100, "")
			quick := fs.Bool("quick", false, "")
			err := ParseFlags(fs, tt.args, quick, tt.quick)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil || *runs != tt.wantRuns || *size != tt.wantSize {
				t.Errorf("runs %d, size %d, err %v; want %d, %d", *runs, *size, err, tt.wantRuns, tt.wantSize)
			}
		})
	}
}

func TestCheckOutput(t *testing.T) {
	for _, tt := range []struct{ output, update, wantErr string }{
		{output: "text"},
		{output: "markdown", update: "BENCHMARKS.md"},
		{output: "json", wantErr: `-o must be "text" or "markdown", got "json"`},
		{output: "text", update: "BENCHMARKS.md", wantErr: "-update needs -o markdown"},
	} {
		err := CheckOutput(tt.output, tt.update)
		if (tt.wantErr == "" && err != nil) || (tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr))) {
			t.Errorf("CheckOutput(%q, %q) = %v, want %q", tt.output, tt.update, err, tt.wantErr)
		}
	}
}
