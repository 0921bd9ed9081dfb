package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Headline is one figure of a benchmark as the summary table shows it.
type Headline struct {
	// Section is the BENCHMARKS.md section the figure comes from.
	Section string `json:"section"`
	// Figure says what was measured, e.g. "initial apply, 1000 objects".
	Figure string `json:"figure"`
	// Min and Median are formatted values over the runs.
	Min    string `json:"min"`
	Median string `json:"median"`
	// Runs is how many runs the figure is made of.
	Runs int `json:"runs"`
}

// WriteHeadlines stores the headlines of one benchmark command as
// dir/<name>.json, replacing those of its previous run; an empty dir writes
// nothing.
func WriteHeadlines(dir, name string, hs []Headline) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(hs, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644)
}

// ReadHeadlines reads every dir/*.json WriteHeadlines wrote, in the order
// of names (those not named follow, sorted).
func ReadHeadlines(dir string, names []string) ([]Headline, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	rank := map[string]int{}
	for i, n := range names {
		rank[filepath.Join(dir, n+".json")] = i - len(names)
	}
	sort.SliceStable(files, func(i, j int) bool {
		ri, rj := rank[files[i]], rank[files[j]]
		if ri != rj {
			return ri < rj
		}
		return files[i] < files[j]
	})
	var out []Headline
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var hs []Headline
		if err := json.Unmarshal(b, &hs); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, hs...)
	}
	return out, nil
}

// HeadlineTable is the summary table of hs.
func HeadlineTable(hs []Headline) Table {
	t := Table{Header: []string{"figure", "min", "median", "runs", "section"}}
	for _, h := range hs {
		t.Rows = append(t.Rows, []string{h.Figure, h.Min, h.Median, fmt.Sprint(h.Runs), h.Section})
	}
	return t
}
