package harness

import (
	"strconv"
	"strings"
	"testing"
)

func TestTableText(t *testing.T) {
	tab := Table{Header: []string{"figure", "value"}, Rows: [][]string{{"p50", "12 ms"}, {"p99 latency", "3 ms"}}}
	var b strings.Builder
	if err := tab.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "figure       value\np50          12 ms\np99 latency  3 ms\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestTableMarkdown(t *testing.T) {
	tab := Table{Header: []string{"figure", "value"}, Rows: [][]string{{"a|b", "1 / 2"}}}
	var b strings.Builder
	if err := tab.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	want := "| figure | value |\n| --- | ---: |\n| a\\|b | 1 / 2 |\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFormatSpread(t *testing.T) {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 0, 64) }
	if got := FormatSpread(Spread{Min: 1000, Median: 1000.2}, f); got != "1000" {
		t.Errorf("equal once formatted: got %q, want one number", got)
	}
	if got := FormatSpread(Spread{Min: 3, Median: 5}, f); got != "3 / 5" {
		t.Errorf("got %q, want \"3 / 5\"", got)
	}
}
