package dashboard

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/internal/fleet"
)

// planFixture is Plan with its Result typed, as the page reads it.
type planFixture struct {
	Base   string       `json:"base"`
	Head   string       `json:"head"`
	Result fleet.Result `json:"result"`
	Error  string       `json:"error,omitempty"`
}

// TestPageFixturesAreTheAPIsJSON checks the fixtures the page is developed
// against (testdata/*.json) hold exactly the fields the server sends: every
// field is one of the Go types' (no misspelt or removed field), and the
// server, sending the same values, writes the same JSON (no field the
// server omits or names otherwise).
func TestPageFixturesAreTheAPIsJSON(t *testing.T) {
	for file, v := range map[string]any{
		"fleet.json":    &Fleet{},
		"stack.json":    &StackDetail{},
		"delivery.json": &Delivery{},
		"plan.json":     &planFixture{},
	} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("%s does not decode into %T: %v", file, v, err)
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(again, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s as the server would send it (-fixture +server):\n%s", file, diff)
			}
		})
	}
}
