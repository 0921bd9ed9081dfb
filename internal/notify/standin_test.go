package notify_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/notify"
)

// Slack, Teams, Discord, GitHub, GitLab and Gitea cannot be reached from
// the tests, so local HTTP servers stand in for them. Each checks every
// request against the service's documented format (required fields,
// limits, headers, content type) and fails the test on the first request
// that does not follow it.

// validator checks one request; body is already read.
type validator func(r *http.Request, body []byte) error

// standIn is a local server in place of a service.
type standIn struct {
	t        testing.TB
	srv      *httptest.Server
	validate validator
	// status is what it answers; 0 means 200.
	status atomic.Int32
	// hold blocks every request until closed, when not nil.
	hold chan struct{}

	mu       sync.Mutex
	received []received
}

// received is one request that passed validation.
type received struct {
	Path    string
	Header  http.Header
	Body    []byte
	Payload map[string]any
}

func newStandIn(t testing.TB, v validator) *standIn {
	s := &standIn{t: t, validate: v}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *standIn) serve(w http.ResponseWriter, r *http.Request) {
	if s.hold != nil {
		select {
		case <-s.hold:
		case <-r.Context().Done():
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	if err := s.check(r, body); err != nil {
		s.t.Errorf("stand-in for %s got a request that breaks the documented format: %v\nbody: %s", r.URL.Path, err, body)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var payload map[string]any
	_ = json.Unmarshal(body, &payload)
	s.mu.Lock()
	s.received = append(s.received, received{Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body, Payload: payload})
	s.mu.Unlock()
	if code := s.status.Load(); code != 0 {
		w.WriteHeader(int(code))
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *standIn) check(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost {
		return fmt.Errorf("method %s, want POST", r.Method)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return fmt.Errorf("content type %q, want application/json", r.Header.Get("Content-Type"))
	}
	if !json.Valid(body) {
		return errors.New("body is not JSON")
	}
	return s.validate(r, body)
}

// requests returns what the stand-in received so far.
func (s *standIn) requests() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// URL is the stand-in's address with path appended.
func (s *standIn) URL(path string) string { return s.srv.URL + path }

// --- the documented formats ---

var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// slackFormat: an incoming-webhook message. text is required as the
// notification fallback when blocks or attachments are used; attachment
// colours are hex or good/warning/danger; a section's text is at most
// 3000 characters; a context block holds at most 10 elements.
func slackFormat(_ *http.Request, body []byte) error {
	var m struct {
		Text        *string `json:"text"`
		Attachments []struct {
			Color  string `json:"color"`
			Blocks []struct {
				Type string `json:"type"`
				Text *struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"text"`
				Elements []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"elements"`
			} `json:"blocks"`
		} `json:"attachments"`
	}
	if err := strictJSON(body, &m); err != nil {
		return err
	}
	if m.Text == nil || *m.Text == "" {
		return errors.New("text is required as the fallback of a message with attachments")
	}
	for _, a := range m.Attachments {
		if !hexColor.MatchString(a.Color) && !slices.Contains([]string{"good", "warning", "danger"}, a.Color) {
			return fmt.Errorf("attachment color %q is not hex or good/warning/danger", a.Color)
		}
		for _, b := range a.Blocks {
			switch b.Type {
			case "section":
				if b.Text == nil || !slices.Contains([]string{"mrkdwn", "plain_text"}, b.Text.Type) || len(b.Text.Text) > 3000 || b.Text.Text == "" {
					return errors.New("a section needs a mrkdwn or plain_text text of 1 to 3000 characters")
				}
			case "context":
				if len(b.Elements) == 0 || len(b.Elements) > 10 {
					return fmt.Errorf("a context block holds 1 to 10 elements, got %d", len(b.Elements))
				}
				for _, e := range b.Elements {
					if !slices.Contains([]string{"mrkdwn", "plain_text"}, e.Type) || e.Text == "" {
						return fmt.Errorf("context element of type %q", e.Type)
					}
				}
			case "divider", "header":
			default:
				return fmt.Errorf("unknown block type %q", b.Type)
			}
		}
	}
	return nil
}

// teamsFormat: a message activity whose attachments are Adaptive Cards.
func teamsFormat(_ *http.Request, body []byte) error {
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Schema  string           `json:"$schema"`
				Type    string           `json:"type"`
				Version string           `json:"version"`
				Body    []map[string]any `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := strictJSON(body, &m); err != nil {
		return err
	}
	if m.Type != "message" || len(m.Attachments) == 0 {
		return errors.New(`type must be "message" with at least one attachment`)
	}
	for _, a := range m.Attachments {
		c := a.Content
		if a.ContentType != "application/vnd.microsoft.card.adaptive" || c.Type != "AdaptiveCard" || c.Version == "" || len(c.Body) == 0 {
			return errors.New("an attachment must be an AdaptiveCard with a version and a body")
		}
		for _, el := range c.Body {
			if el["type"] == nil {
				return errors.New("every card element needs a type")
			}
			if el["type"] == "TextBlock" && el["text"] == nil {
				return errors.New("a TextBlock needs text")
			}
		}
	}
	return nil
}

// discordFormat: content or embeds; at most 10 embeds; title 256,
// description 4096, 25 fields of name 256 and value 1024, 6000 in all;
// colour an integer.
func discordFormat(_ *http.Request, body []byte) error {
	var m struct {
		Content string `json:"content"`
		Embeds  []struct {
			Title       string `json:"title"`
			Description string `json:"description"`
			Color       *int   `json:"color"`
			Timestamp   string `json:"timestamp"`
			Fields      []struct {
				Name   string `json:"name"`
				Value  string `json:"value"`
				Inline bool   `json:"inline"`
			} `json:"fields"`
		} `json:"embeds"`
		Username string `json:"username"`
	}
	if err := strictJSON(body, &m); err != nil {
		return err
	}
	if m.Content == "" && len(m.Embeds) == 0 {
		return errors.New("content or embeds is required")
	}
	if len(m.Embeds) > 10 {
		return errors.New("at most 10 embeds")
	}
	total := 0
	for _, e := range m.Embeds {
		if len(e.Title) > 256 || len(e.Description) > 4096 || len(e.Fields) > 25 {
			return errors.New("embed over its title, description or field limits")
		}
		if e.Color != nil && (*e.Color < 0 || *e.Color > 0xffffff) {
			return errors.New("color out of range")
		}
		if e.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
				return errors.New("timestamp is not ISO 8601")
			}
		}
		total += len(e.Title) + len(e.Description)
		for _, f := range e.Fields {
			if f.Name == "" || f.Value == "" || len(f.Name) > 256 || len(f.Value) > 1024 {
				return errors.New("a field needs a name of 1-256 and a value of 1-1024 characters")
			}
			total += len(f.Name) + len(f.Value)
		}
	}
	if total > 6000 {
		return errors.New("more than 6000 characters in embeds")
	}
	return nil
}

// genericFormat: the generic provider's event.
func genericFormat(_ *http.Request, body []byte) error {
	var e notify.GenericEvent
	if err := strictJSON(body, &e); err != nil {
		return err
	}
	o := e.InvolvedObject
	if o.Kind == "" || o.Name == "" || o.Namespace == "" || e.Reason == "" || e.Message == "" || e.Timestamp.IsZero() {
		return errors.New("involvedObject kind/name/namespace, reason, message and timestamp are required")
	}
	if e.Severity != "info" && e.Severity != "error" {
		return fmt.Errorf("severity %q", e.Severity)
	}
	return nil
}

// genericHMACFormat: the generic event, signed with X-Signature: sha256=<hex>.
func genericHMACFormat(key string) validator {
	return func(r *http.Request, body []byte) error {
		want := "sha256=" + notify.Sign([]byte(key), body)
		if r.Header.Get("X-Signature") != want {
			return errors.New("X-Signature is not the HMAC-SHA256 of the body")
		}
		return genericFormat(r, body)
	}
}

var sha40 = `[0-9a-f]{40}`

// githubStatusFormat: POST /repos/{owner}/{repo}/statuses/{sha} (under
// /api/v3 on Enterprise), a bearer token, state error|failure|pending|success,
// description at most 140 characters.
func githubStatusFormat(token string) validator {
	path := regexp.MustCompile(`^/api/v3/repos/[^/]+/[^/]+/statuses/` + sha40 + `$`)
	return func(r *http.Request, body []byte) error {
		if !path.MatchString(r.URL.Path) {
			return fmt.Errorf("path %s is not /repos/{owner}/{repo}/statuses/{sha}", r.URL.Path)
		}
		if r.Header.Get("Authorization") != "Bearer "+token || !strings.Contains(r.Header.Get("Accept"), "application/vnd.github") {
			return errors.New("needs Authorization: Bearer <token> and Accept: application/vnd.github+json")
		}
		return statusBody(body, "state", []string{"error", "failure", "pending", "success"}, "context", 140)
	}
}

// gitlabStatusFormat: POST /api/v4/projects/{url-encoded path}/statuses/{sha},
// PRIVATE-TOKEN, state pending|running|success|failed|canceled.
func gitlabStatusFormat(token string) validator {
	path := regexp.MustCompile(`^/api/v4/projects/[^/]+%2F[^/]+/statuses/` + sha40 + `$`)
	return func(r *http.Request, body []byte) error {
		if !path.MatchString(r.URL.EscapedPath()) {
			return fmt.Errorf("path %s is not /api/v4/projects/{id}/statuses/{sha}", r.URL.EscapedPath())
		}
		if r.Header.Get("PRIVATE-TOKEN") != token {
			return errors.New("needs a PRIVATE-TOKEN header")
		}
		return statusBody(body, "state", []string{"pending", "running", "success", "failed", "canceled"}, "name", 0)
	}
}

// giteaStatusFormat: POST /api/v1/repos/{owner}/{repo}/statuses/{sha},
// Authorization: token <token>, state pending|success|error|failure|warning.
func giteaStatusFormat(token string) validator {
	path := regexp.MustCompile(`^/api/v1/repos/[^/]+/[^/]+/statuses/` + sha40 + `$`)
	return func(r *http.Request, body []byte) error {
		if !path.MatchString(r.URL.Path) {
			return fmt.Errorf("path %s is not /api/v1/repos/{owner}/{repo}/statuses/{sha}", r.URL.Path)
		}
		if r.Header.Get("Authorization") != "token "+token {
			return errors.New("needs Authorization: token <token>")
		}
		return statusBody(body, "state", []string{"pending", "success", "error", "failure", "warning"}, "context", 0)
	}
}

func statusBody(body []byte, stateField string, states []string, nameField string, maxDesc int) error {
	var m map[string]string
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body must be an object of strings: %v", err)
	}
	if !slices.Contains(states, m[stateField]) {
		return fmt.Errorf("%s %q not one of %v", stateField, m[stateField], states)
	}
	if m[nameField] == "" {
		return fmt.Errorf("%s is required", nameField)
	}
	if maxDesc > 0 && len(m["description"]) > maxDesc {
		return fmt.Errorf("description longer than %d", maxDesc)
	}
	return nil
}

// strictJSON decodes body into v.
func strictJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("body does not have the documented shape: %v", err)
	}
	return nil
}
