package harness

import (
	"strings"
	"testing"
)

func TestHeadlinesRoundTripInNamedOrder(t *testing.T) {
	dir := t.TempDir()
	plan := []Headline{{Section: "Plan", Figure: "plan, 50 clusters", Min: "2.9 s", Median: "3.8 s", Runs: 5}}
	apply := []Headline{{Section: "Apply", Figure: "initial apply, 100 objects", Min: "1 s", Median: "2 s", Runs: 3}}
	if err := WriteHeadlines(dir, "plan", plan); err != nil {
		t.Fatal(err)
	}
	if err := WriteHeadlines(dir, "apply", apply); err != nil {
		t.Fatal(err)
	}
	if err := WriteHeadlines("", "ignored", apply); err != nil {
		t.Fatal(err)
	}
	got, err := ReadHeadlines(dir, []string{"apply", "drift", "plan"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Section != "Apply" || got[1].Section != "Plan" {
		t.Fatalf("ReadHeadlines = %+v, want Apply then Plan", got)
	}
	var b strings.Builder
	if err := HeadlineTable(got).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| initial apply, 100 objects | 1 s | 2 s | 3 | Apply |") {
		t.Errorf("table:\n%s", b.String())
	}
}
