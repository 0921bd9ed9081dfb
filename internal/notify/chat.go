package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Severity colours: Slack's documented good and danger greens and reds.
const (
	colorInfo  = "#2eb886"
	colorError = "#a30200"
)

// Message text limits of the services, documented by each.
const (
	slackSectionMax     = 3000 // a section block's text
	discordTitleMax     = 256
	discordDescMax      = 4096
	discordFieldNameMax = 256
	discordFieldMax     = 1024
	discordFieldsMax    = 25
)

func (m Message) color() string {
	if m.Severity() == SeverityError {
		return colorError
	}
	return colorInfo
}

// facts are the message's metadata in a stable order: object, revision,
// then the Alert's eventMetadata.
func (m Message) facts() [][2]string {
	facts := [][2]string{{"object", m.Event.Object.String()}}
	if m.Event.Revision != "" {
		facts = append(facts, [2]string{"revision", m.Event.Revision})
	}
	for _, k := range slices.Sorted(maps.Keys(m.Metadata)) {
		if k != "revision" {
			facts = append(facts, [2]string{k, m.Metadata[k]})
		}
	}
	return facts
}

// slackRequest writes an incoming-webhook message: a top-level text (the
// notification's fallback) and one attachment with the severity colour
// whose blocks hold the message and its metadata.
func slackRequest(cfg ProviderConfig, m Message) (*request, error) {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	type block struct {
		Type     string `json:"type"`
		Text     *text  `json:"text,omitempty"`
		Elements []text `json:"elements,omitempty"`
	}
	ctx := make([]text, 0, 10)
	for _, f := range m.facts() {
		if len(ctx) < 10 { // a context block takes at most 10 elements
			ctx = append(ctx, text{Type: "mrkdwn", Text: "*" + f[0] + "*: " + f[1]})
		}
	}
	payload := map[string]any{
		"text": m.Title(),
		"attachments": []map[string]any{{
			"color": m.color(),
			"blocks": []block{
				{Type: "section", Text: &text{Type: "mrkdwn", Text: truncate("*"+m.Title()+"*\n"+m.Event.Message, slackSectionMax-3)}},
				{Type: "context", Elements: ctx},
			},
		}},
	}
	if cfg.Channel != "" {
		payload["channel"] = cfg.Channel
	}
	if cfg.Username != "" {
		payload["username"] = cfg.Username
	}
	return jsonRequest(cfg.Address, payload, nil)
}

// teamsRequest writes a Teams (Workflows) webhook message: a message
// activity with one Adaptive Card attachment.
func teamsRequest(cfg ProviderConfig, m Message) (*request, error) {
	color := "good"
	if m.Severity() == SeverityError {
		color = "attention"
	}
	facts := make([]map[string]string, 0, 4)
	for _, f := range m.facts() {
		facts = append(facts, map[string]string{"title": f[0], "value": f[1]})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body": []map[string]any{
			{"type": "TextBlock", "text": m.Title(), "weight": "bolder", "size": "medium", "color": color, "wrap": true},
			{"type": "TextBlock", "text": m.Event.Message, "wrap": true},
			{"type": "FactSet", "facts": facts},
		},
	}
	payload := map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"content":     card,
		}},
	}
	return jsonRequest(cfg.Address, payload, nil)
}

// discordRequest writes an execute-webhook body with one embed coloured
// by severity, within Discord's documented limits.
func discordRequest(cfg ProviderConfig, m Message) (*request, error) {
	color := 0x2eb886
	if m.Severity() == SeverityError {
		color = 0xa30200
	}
	fields := make([]map[string]any, 0, 4)
	for _, f := range m.facts() {
		if len(fields) < discordFieldsMax {
			fields = append(fields, map[string]any{"name": truncate(f[0], discordFieldNameMax-3), "value": truncate(f[1], discordFieldMax-3), "inline": false})
		}
	}
	embed := map[string]any{
		"title":       truncate(m.Title(), discordTitleMax-3),
		"description": truncate(m.Event.Message, discordDescMax-3),
		"color":       color,
		"fields":      fields,
		"timestamp":   m.Event.Time.UTC().Format(time.RFC3339),
	}
	payload := map[string]any{"embeds": []any{embed}}
	if cfg.Username != "" {
		payload["username"] = cfg.Username
	}
	return jsonRequest(cfg.Address, payload, nil)
}

// GenericEvent is the JSON body of generic and generic-hmac providers,
// with the field names of Flux's event.
type GenericEvent struct {
	InvolvedObject      ObjectRef         `json:"involvedObject"`
	Severity            string            `json:"severity"`
	Timestamp           time.Time         `json:"timestamp"`
	Message             string            `json:"message"`
	Reason              string            `json:"reason"`
	Metadata            map[string]string `json:"metadata,omitempty"`
	ReportingController string            `json:"reportingController"`
	// Kind is Flotilla's: failure, resolved or info.
	Kind string `json:"kind"`
}

func genericEvent(m Message) GenericEvent {
	meta := maps.Clone(m.Metadata)
	if m.Event.Revision != "" {
		if meta == nil {
			meta = map[string]string{}
		}
		meta["revision"] = m.Event.Revision
	}
	return GenericEvent{
		InvolvedObject: m.Event.Object, Severity: m.Severity(), Timestamp: m.Event.Time.UTC(),
		Message: m.Event.Message, Reason: m.Event.Reason, Metadata: meta,
		ReportingController: "flotilla-agent", Kind: m.Kind,
	}
}

func genericRequest(cfg ProviderConfig, m Message) (*request, error) {
	return jsonRequest(cfg.Address, genericEvent(m), nil)
}

// genericHMACRequest signs the body: X-Signature: sha256=<hex HMAC>.
func genericHMACRequest(cfg ProviderConfig, m Message) (*request, error) {
	req, err := jsonRequest(cfg.Address, genericEvent(m), nil)
	if err != nil {
		return nil, err
	}
	req.headers = map[string]string{"X-Signature": "sha256=" + Sign([]byte(cfg.Token), req.body)}
	return req, nil
}

// Sign returns the hex HMAC-SHA256 of body under key.
func Sign(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func jsonRequest(url string, payload any, headers map[string]string) (*request, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return &request{url: url, body: body, headers: headers}, nil
}
