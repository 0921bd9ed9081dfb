package harness

import (
	"errors"
	"strings"
	"testing"
)

func TestPrinterMarkdownAndText(t *testing.T) {
	tbl := Table{Header: []string{"a", "b"}, Rows: [][]string{{"x", "1"}}}
	var md, text strings.Builder
	for _, p := range []*Printer{{W: &md, Markdown: true}, {W: &text}} {
		p.Heading("Fig")
		p.Table(tbl)
		p.Command("go run x")
		if p.Err != nil {
			t.Fatal(p.Err)
		}
	}
	if md.String() != "### Fig\n\n| a | b |\n| --- | ---: |\n| x | 1 |\n\nReproduce: `go run x`\n\n" {
		t.Errorf("markdown:\n%q", md.String())
	}
	if text.String() != "Fig\n---\na  b\nx  1\n\nreproduce: go run x\n\n" {
		t.Errorf("text:\n%q", text.String())
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(b []byte) (int, error) {
	w.n++
	return 0, errors.New("disk full")
}

func TestPrinterKeepsTheFirstErrorAndStops(t *testing.T) {
	w := &failingWriter{}
	p := &Printer{W: w}
	p.Printf("a")
	p.Heading("b")
	p.Command("c")
	if p.Err == nil || w.n != 1 {
		t.Errorf("err %v after %d writes; want the first error and no write after it", p.Err, w.n)
	}
}
