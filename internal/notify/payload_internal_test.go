package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const sha = "0123456789abcdef0123456789abcdef01234567"

// webFailure is a failure of Stack apps/web at a commit, recorded at a
// time outside UTC.
func webFailure() Message {
	return Message{
		Kind: KindFailure,
		Event: Event{
			Object:   ObjectRef{Kind: "Stack", Namespace: "apps", Name: "web"},
			Severity: SeverityError, Reason: "BuildFailed", Message: "kustomize build failed",
			Revision: "main@sha1:" + sha,
			Time:     time.Date(2026, 1, 2, 4, 4, 5, 0, time.FixedZone("CET", 3600)),
		},
		Objects:  []string{"Stack/apps/web"},
		Metadata: map[string]string{"region": "eu", "cluster": "prod"},
	}
}

// build runs the payload builder of typ and decodes its JSON body.
func build(t *testing.T, cfg ProviderConfig, m Message) (*request, map[string]any) {
	t.Helper()
	req, err := builders[cfg.Type](cfg, m)
	if err != nil {
		t.Fatalf("%s builder: %v", cfg.Type, err)
	}
	if req == nil {
		return nil, nil
	}
	var payload map[string]any
	if err := json.Unmarshal(req.body, &payload); err != nil {
		t.Fatalf("%s body is not JSON: %v\n%s", cfg.Type, err, req.body)
	}
	return req, payload
}

func TestFactsOrder(t *testing.T) {
	m := webFailure()
	m.Metadata["revision"] = "ignored: the event's revision is the fact"
	want := [][2]string{
		{"object", "Stack/apps/web"},
		{"revision", "main@sha1:" + sha},
		{"cluster", "prod"},
		{"region", "eu"},
	}
	if diff := cmp.Diff(want, m.facts()); diff != "" {
		t.Errorf("facts (-want +got):\n%s", diff)
	}
	m.Event.Revision, m.Metadata = "", nil
	if diff := cmp.Diff([][2]string{{"object", "Stack/apps/web"}}, m.facts()); diff != "" {
		t.Errorf("facts without revision and metadata (-want +got):\n%s", diff)
	}
}

func TestTitleAndSeverity(t *testing.T) {
	for _, tc := range []struct {
		name, kind    string
		objects       []string
		want, wantSev string
	}{
		{"a failure", KindFailure, nil, "Stack apps/web failed: BuildFailed", SeverityError},
		{"a resolution", KindResolved, []string{"Stack/apps/web"}, "Stack apps/web recovered: BuildFailed", SeverityInfo},
		{"an info event", KindInfo, nil, "Stack apps/web: BuildFailed", SeverityInfo},
		{"a grouped failure names every object", KindFailure, []string{"Stack/apps/web", "Stack/apps/api"}, "Stack/apps/web, Stack/apps/api failed: BuildFailed", SeverityError},
		{"an unknown kind reads as info", "", nil, "Stack apps/web: BuildFailed", SeverityInfo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := webFailure()
			m.Kind, m.Objects = tc.kind, tc.objects
			if got := m.Title(); got != tc.want {
				t.Errorf("Title = %q, want %q", got, tc.want)
			}
			if got := m.Severity(); got != tc.wantSev {
				t.Errorf("Severity = %q, want %q", got, tc.wantSev)
			}
		})
	}
}

func TestSlackPayload(t *testing.T) {
	req, got := build(t, ProviderConfig{Type: "slack", Address: "https://hooks.example/x", Channel: "#ops", Username: "flotilla"}, webFailure())
	want := map[string]any{
		"text":     "Stack apps/web failed: BuildFailed",
		"channel":  "#ops",
		"username": "flotilla",
		"attachments": []any{map[string]any{
			"color": "#a30200",
			"blocks": []any{
				map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*Stack apps/web failed: BuildFailed*\nkustomize build failed"}},
				map[string]any{"type": "context", "elements": []any{
					map[string]any{"type": "mrkdwn", "text": "*object*: Stack/apps/web"},
					map[string]any{"type": "mrkdwn", "text": "*revision*: main@sha1:" + sha},
					map[string]any{"type": "mrkdwn", "text": "*cluster*: prod"},
					map[string]any{"type": "mrkdwn", "text": "*region*: eu"},
				}},
			},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slack payload (-want +got):\n%s", diff)
	}
	if req.url != "https://hooks.example/x" || req.headers != nil {
		t.Errorf("request to %q with headers %v, want the webhook and none", req.url, req.headers)
	}
}

func TestSlackPayloadLimits(t *testing.T) {
	m := webFailure()
	m.Kind = KindResolved
	m.Event.Message = strings.Repeat("x", 5000)
	for i := range 12 {
		m.Metadata[fmt.Sprintf("key%02d", i)] = "v"
	}
	_, got := build(t, ProviderConfig{Type: "slack"}, m)
	if _, ok := got["channel"]; ok {
		t.Error("channel set without Channel: the webhook's own must stay")
	}
	if _, ok := got["username"]; ok {
		t.Error("username set without Username")
	}
	att := got["attachments"].([]any)[0].(map[string]any)
	if att["color"] != "#2eb886" {
		t.Errorf("color = %v for a resolution, want Slack's good green", att["color"])
	}
	blocks := att["blocks"].([]any)
	text := blocks[0].(map[string]any)["text"].(map[string]any)["text"].(string)
	if len(text) > 3000 || !strings.HasSuffix(text, "…") {
		t.Errorf("section text is %d bytes ending %q, want at most 3000 ending with an ellipsis", len(text), text[len(text)-5:])
	}
	if n := len(blocks[1].(map[string]any)["elements"].([]any)); n != 10 {
		t.Errorf("context block holds %d elements, want Slack's maximum of 10", n)
	}
}

func TestTeamsPayload(t *testing.T) {
	for _, tc := range []struct {
		kind, color string
	}{{KindFailure, "attention"}, {KindResolved, "good"}, {KindInfo, "good"}} {
		t.Run(tc.kind, func(t *testing.T) {
			m := webFailure()
			m.Kind = tc.kind
			_, got := build(t, ProviderConfig{Type: "msteams", Address: "https://teams.example/w"}, m)
			if got["type"] != "message" {
				t.Errorf("type = %v, want message", got["type"])
			}
			att := got["attachments"].([]any)[0].(map[string]any)
			if att["contentType"] != "application/vnd.microsoft.card.adaptive" {
				t.Errorf("contentType = %v", att["contentType"])
			}
			card := att["content"].(map[string]any)
			if card["type"] != "AdaptiveCard" || card["version"] != "1.4" {
				t.Errorf("card type %v version %v, want AdaptiveCard 1.4", card["type"], card["version"])
			}
			body := card["body"].([]any)
			if got := body[0].(map[string]any)["color"]; got != tc.color {
				t.Errorf("title color = %v, want %s", got, tc.color)
			}
			if got := body[1].(map[string]any)["text"]; got != "kustomize build failed" {
				t.Errorf("message block = %v", got)
			}
			facts := body[2].(map[string]any)["facts"].([]any)
			want := []any{
				map[string]any{"title": "object", "value": "Stack/apps/web"},
				map[string]any{"title": "revision", "value": "main@sha1:" + sha},
				map[string]any{"title": "cluster", "value": "prod"},
				map[string]any{"title": "region", "value": "eu"},
			}
			if diff := cmp.Diff(want, facts); diff != "" {
				t.Errorf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiscordPayload(t *testing.T) {
	m := webFailure()
	_, got := build(t, ProviderConfig{Type: "discord", Username: "flotilla", Channel: "ignored"}, m)
	if got["username"] != "flotilla" {
		t.Errorf("username = %v", got["username"])
	}
	if _, ok := got["channel"]; ok {
		t.Error("discord payload has a channel: execute-webhook has none")
	}
	embed := got["embeds"].([]any)[0].(map[string]any)
	for field, want := range map[string]any{
		"title":       "Stack apps/web failed: BuildFailed",
		"description": "kustomize build failed",
		"color":       float64(0xa30200),
		"timestamp":   "2026-01-02T03:04:05Z",
	} {
		if embed[field] != want {
			t.Errorf("embed %s = %v, want %v", field, embed[field], want)
		}
	}
	if first := embed["fields"].([]any)[0]; !cmp.Equal(first, map[string]any{"name": "object", "value": "Stack/apps/web", "inline": false}) {
		t.Errorf("first field = %v", first)
	}
}

func TestDiscordPayloadLimits(t *testing.T) {
	m := webFailure()
	m.Kind = KindInfo
	m.Event.Reason = strings.Repeat("R", 300)
	m.Event.Message = strings.Repeat("d", 5000)
	m.Metadata = map[string]string{strings.Repeat("k", 300): strings.Repeat("v", 2000)}
	for i := range 30 {
		m.Metadata[fmt.Sprintf("key%02d", i)] = "v"
	}
	_, got := build(t, ProviderConfig{Type: "discord"}, m)
	if _, ok := got["username"]; ok {
		t.Error("username set without Username")
	}
	embed := got["embeds"].([]any)[0].(map[string]any)
	if embed["color"] != float64(0x2eb886) {
		t.Errorf("color = %v for info, want green", embed["color"])
	}
	// Discord counts characters; "…" is one, so each text is limit-2 long.
	for field, limit := range map[string]int{"title": 256, "description": 4096} {
		if s := embed[field].(string); len([]rune(s)) != limit-2 || !strings.HasSuffix(s, "…") {
			t.Errorf("%s has %d characters, want %d ending with an ellipsis", field, len([]rune(s)), limit-2)
		}
	}
	fields := embed["fields"].([]any)
	if len(fields) != 25 {
		t.Fatalf("%d fields, want Discord's maximum of 25", len(fields))
	}
	// object, revision, then the metadata in order: key00..key29 sort
	// before the long key of k's.
	if name := fields[2].(map[string]any)["name"]; name != "key00" {
		t.Errorf("third field = %v, want key00", name)
	}
	for _, f := range fields {
		f := f.(map[string]any)
		if n := len([]rune(f["name"].(string))); n > 256 {
			t.Errorf("field name of %d characters", n)
		}
		if n := len([]rune(f["value"].(string))); n > 1024 {
			t.Errorf("field value of %d characters", n)
		}
	}
}

func TestGenericPayload(t *testing.T) {
	m := webFailure()
	_, got := build(t, ProviderConfig{Type: "generic", Address: "https://hooks.example/events"}, m)
	want := map[string]any{
		"involvedObject":      map[string]any{"kind": "Stack", "namespace": "apps", "name": "web"},
		"severity":            "error",
		"timestamp":           "2026-01-02T03:04:05Z",
		"message":             "kustomize build failed",
		"reason":              "BuildFailed",
		"metadata":            map[string]any{"cluster": "prod", "region": "eu", "revision": "main@sha1:" + sha},
		"reportingController": "flotilla-agent",
		"kind":                "failure",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("generic payload (-want +got):\n%s", diff)
	}
	if _, ok := m.Metadata["revision"]; ok {
		t.Error("building the payload wrote the revision into the message's own metadata")
	}
	m.Event.Revision, m.Metadata = "", nil
	if _, got := build(t, ProviderConfig{Type: "generic"}, m); got["metadata"] != nil {
		t.Errorf("metadata = %v without revision or eventMetadata, want it left out", got["metadata"])
	}
	m.Event.Revision = "main@sha1:" + sha
	if _, got := build(t, ProviderConfig{Type: "generic"}, m); !cmp.Equal(got["metadata"], map[string]any{"revision": "main@sha1:" + sha}) {
		t.Errorf("metadata = %v with only a revision", got["metadata"])
	}
}

func TestGenericHMACSignsTheBodySent(t *testing.T) {
	req, _ := build(t, ProviderConfig{Type: "generic-hmac", Token: "hmac-key"}, webFailure())
	plain, _ := build(t, ProviderConfig{Type: "generic"}, webFailure())
	if string(req.body) != string(plain.body) {
		t.Errorf("generic-hmac body differs from generic's:\n%s\n%s", req.body, plain.body)
	}
	if got, want := req.headers["X-Signature"], "sha256="+Sign([]byte("hmac-key"), req.body); got != want {
		t.Errorf("X-Signature = %q, want %q", got, want)
	}
}

// Sign is HMAC-SHA256: the RFC 4231 test case 2 and the well-known fox.
func TestSign(t *testing.T) {
	for _, tc := range []struct{ key, body, want string }{
		{"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"key", "The quick brown fox jumps over the lazy dog", "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"},
		{"", "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
	} {
		if got := Sign([]byte(tc.key), []byte(tc.body)); got != tc.want {
			t.Errorf("Sign(%q, %q) = %s, want %s", tc.key, tc.body, got, tc.want)
		}
	}
}

func TestParseRepo(t *testing.T) {
	for _, tc := range []struct {
		name, address, wantBase, wantPath string
	}{
		{"owner and name", "https://github.com/org/repo", "https://github.com", "org/repo"},
		{".git and a trailing slash trimmed", "https://github.com/org/repo.git/", "https://github.com", "org/repo"},
		{"GitLab subgroups", "https://gitlab.example/group/sub/repo", "https://gitlab.example", "group/sub/repo"},
		{"a port and plain http kept", "http://gitea.local:3000/org/repo.git", "http://gitea.local:3000", "org/repo"},
		{"a query dropped", "https://github.com/org/repo?tab=readme", "https://github.com", "org/repo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseRepo(tc.address)
			if err != nil || r.base.String() != tc.wantBase || r.path != tc.wantPath {
				t.Errorf("parseRepo(%q) = %v %q, %v; want %s %s", tc.address, r.base, r.path, err, tc.wantBase, tc.wantPath)
			}
		})
	}
	for _, address := range []string{"", "github.com/org/repo", "https://github.com/repo", "https://github.com/", "https://github.com/.git", "::not a url", "git@github.com:org/repo.git"} {
		if r, err := parseRepo(address); !errors.Is(err, ErrRepoAddress) {
			t.Errorf("parseRepo(%q) = %+v, %v; want ErrRepoAddress", address, r, err)
		}
	}
}

func TestCommitStatusRequests(t *testing.T) {
	for _, tc := range []struct {
		name, typ, address string
		kind               string
		wantURL            string
		wantHeaders        map[string]string
		wantBody           map[string]any
	}{
		{
			name: "github.com goes to api.github.com", typ: "github", address: "https://github.com/org/repo.git", kind: KindFailure,
			wantURL:     "https://api.github.com/repos/org/repo/statuses/" + sha,
			wantHeaders: map[string]string{"Authorization": "Bearer tok", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
			wantBody:    map[string]any{"state": "failure", "context": "flotilla/stack/apps/web", "description": "Stack apps/web failed: BuildFailed"},
		},
		{
			name: "GitHub Enterprise is under /api/v3", typ: "github", address: "https://ghe.example/org/repo", kind: KindResolved,
			wantURL:     "https://ghe.example/api/v3/repos/org/repo/statuses/" + sha,
			wantHeaders: map[string]string{"Authorization": "Bearer tok", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
			wantBody:    map[string]any{"state": "success", "context": "flotilla/stack/apps/web", "description": "Stack apps/web recovered: BuildFailed"},
		},
		{
			name: "GitLab escapes the project path", typ: "gitlab", address: "https://gitlab.example/group/sub/repo", kind: KindFailure,
			wantURL:     "https://gitlab.example/api/v4/projects/group%2Fsub%2Frepo/statuses/" + sha,
			wantHeaders: map[string]string{"PRIVATE-TOKEN": "tok"},
			wantBody:    map[string]any{"state": "failed", "name": "flotilla/stack/apps/web", "description": "Stack apps/web failed: BuildFailed"},
		},
		{
			name: "Gitea", typ: "gitea", address: "http://gitea.local:3000/org/repo.git", kind: KindInfo,
			wantURL:     "http://gitea.local:3000/api/v1/repos/org/repo/statuses/" + sha,
			wantHeaders: map[string]string{"Authorization": "token tok"},
			wantBody:    map[string]any{"state": "success", "context": "flotilla/stack/apps/web", "description": "Stack apps/web: BuildFailed"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := webFailure()
			m.Kind = tc.kind
			req, body := build(t, ProviderConfig{Type: tc.typ, Address: tc.address, Token: "tok"}, m)
			if req.url != tc.wantURL {
				t.Errorf("url = %s, want %s", req.url, tc.wantURL)
			}
			if diff := cmp.Diff(tc.wantHeaders, req.headers); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantBody, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommitStatusErrors(t *testing.T) {
	m := webFailure()
	if _, err := giteaRequest(ProviderConfig{Address: "https://gitea.example/group/sub/repo"}, m); !errors.Is(err, ErrRepoAddress) || !strings.Contains(err.Error(), "Gitea has no subgroups") {
		t.Errorf("gitea with a subgroup: %v, want ErrRepoAddress about subgroups", err)
	}
	for _, typ := range []string{"github", "gitlab", "gitea"} {
		if _, err := builders[typ](ProviderConfig{Address: "https://forge.example/only-owner"}, m); !errors.Is(err, ErrRepoAddress) {
			t.Errorf("%s with an address naming no repository: %v, want ErrRepoAddress", typ, err)
		}
		noCommit := webFailure()
		noCommit.Event.Revision = "main@sha256:" + sha
		if req, err := builders[typ](ProviderConfig{Address: "bad"}, noCommit); req != nil || err != nil {
			t.Errorf("%s without a commit = %v, %v; want nothing to send and no error, before the address is read", typ, req, err)
		}
	}
}

func TestStatusDescriptionFitsGitHub(t *testing.T) {
	m := webFailure()
	m.Event.Reason = strings.Repeat("r", 200)
	d := statusDescription(m)
	if len(d) != 137+len("…") || !strings.HasPrefix(d, "Stack apps/web failed: rrr") || !strings.HasSuffix(d, "…") {
		t.Errorf("description = %q (%d bytes), want the title cut to 137 bytes and an ellipsis", d, len(d))
	}
	m.Event.Object.Kind = "GitRepository"
	if got := statusContext(m); got != "flotilla/gitrepository/apps/web" {
		t.Errorf("statusContext = %q, want the kind in lower case", got)
	}
}
