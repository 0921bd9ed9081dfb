package ledger

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/source/git"
)

func TestFormatWritesTheTimeInUTC(t *testing.T) {
	e := sampleEntry()
	e.Time = time.Date(2026, 12, 3, 18, 4, 0, 500, time.FixedZone("CET", 3600))
	line, err := Format(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "2026-12-03T17:04:00Z apps/podinfo") {
		t.Errorf("line %q, want the summary's time in UTC, to the second", line)
	}
	got, ok := Parse(line)
	if !ok || !got.Time.Equal(e.Time) || got.Time.Location() != time.UTC {
		t.Errorf("Parse = %v (%t), want the same instant in UTC", got.Time, ok)
	}
}

func TestFormatWithoutMessageHasNoColon(t *testing.T) {
	e := canary.LedgerEntry{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Canary: "shop/web", Phase: v1alpha1.CanaryPhaseSucceeded, Weight: 0}
	line, err := Format(e)
	if err != nil {
		t.Fatal(err)
	}
	summary, _, _ := strings.Cut(line, "\t")
	if want := "2026-01-02T03:04:05Z shop/web Succeeded weight 0% failed 0"; summary != want {
		t.Errorf("summary %q, want %q", summary, want)
	}
}

// A message that looks like the separator, tab and brace and all, cannot
// make Parse read the summary as the JSON.
func TestAMessageMimickingTheSeparatorStillParses(t *testing.T) {
	e := sampleEntry()
	e.Message = "odd\t{\"canary\":\"evil/one\",\"time\":\"2020-01-01T00:00:00Z\"}\r\nend"
	line, err := Format(e)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(line, "\t") != 1 || strings.ContainsAny(line, "\r\n") {
		t.Fatalf("line %q, want exactly one tab and no line break", line)
	}
	got, ok := Parse(line)
	if !ok || got.Canary != "apps/podinfo" || got.Message != e.Message {
		t.Errorf("Parse = %+v (%t), want the entry as written, message intact in the JSON", got, ok)
	}
}

func TestParseRefusesEntriesWithoutCanaryOrTime(t *testing.T) {
	for _, line := range []string{
		"summary\t{\"canary\":\"apps/podinfo\"}",
		"summary\t{\"time\":\"2026-12-03T17:04:00Z\"}",
		"summary\t{\"canary\":\"apps/podinfo\",\"time\":\"not a time\"}",
		"summary\t{\"canary\":\"apps/podinfo\",\"time\":\"2026-12-03T17:04:00Z\"} trailing",
	} {
		if e, ok := Parse(line); ok {
			t.Errorf("Parse(%q) = %+v, want refused", line, e)
		}
	}
}

func TestParseNoteOfAnEmptyOrForeignNoteIsEmpty(t *testing.T) {
	for _, note := range []string{"", "\n\n", "Signed-off-by: alice\nreviewed\n"} {
		if got := ParseNote("0123456789abcdef0123456789abcdef01234567", note); len(got) != 0 {
			t.Errorf("ParseNote(%q) = %+v, want no records", note, got)
		}
	}
}

// An unreachable repository's error names the operation and the host, and
// never the URL's password or query.
func TestAppendToAnUnreachableRepositoryShowsNoCredential(t *testing.T) {
	const password = "l3dger-pa55word-marker"
	s := NewStore(WithMaxAttempts(1))
	r := Remote{URL: "http://bot:" + password + "@127.0.0.1:1/fleet.git?token=" + password,
		Credentials: git.Credentials{Username: "bot", Password: password}, Timeout: 10 * time.Second}
	err := s.Append(context.Background(), r, "0123456789abcdef0123456789abcdef01234567", "test", []string{"line"})
	var lerr *Error
	if !errors.As(err, &lerr) {
		t.Fatalf("Append = %v, want an *Error", err)
	}
	if lerr.URL != "http://127.0.0.1:1/fleet.git" {
		t.Errorf("Error.URL = %q, want the URL without userinfo or query", lerr.URL)
	}
	if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "bot:") {
		t.Errorf("error %q carries a credential", err)
	}
}
