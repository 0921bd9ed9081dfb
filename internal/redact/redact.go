package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Mask replaces every secret value in messages.
const Mask = "*****"

// minSecretLen is the shortest value masked: a one- or two-character secret
// would turn ordinary words into asterisks and protects nothing.
const minSecretLen = 3

// URL returns u without the password and query string. For http and https
// the whole userinfo goes, since a user name there is often a token; for ssh
// the user name (usually "git") is kept. A string that does not parse as a URL
// is returned with everything up to an '@' before the host removed.
func URL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.Host == "" {
		return stripUserinfo(u)
	}
	if parsed.User != nil {
		if parsed.Scheme == "ssh" {
			parsed.User = url.User(parsed.User.Username())
		} else {
			parsed.User = nil
		}
	}
	parsed.RawQuery = ""
	parsed.ForceQuery = false
	parsed.Fragment = ""
	return parsed.String()
}

var userinfoPattern = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@`)

func stripUserinfo(s string) string {
	return userinfoPattern.ReplaceAllString(s, "$1")
}

// urlPattern finds URLs inside free text such as a library's error message.
var urlPattern = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// Redactor masks a set of secret values, in clear and in base64, and strips
// credentials from any URL found in the text.
type Redactor struct {
	secrets []string
}

// New returns a Redactor for the given secret values. Empty and very short
// values are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers more secret values, with their base64 forms.
func (r *Redactor) Add(secrets ...string) {
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		r.secrets = append(r.secrets, s,
			base64.StdEncoding.EncodeToString([]byte(s)),
			base64.RawStdEncoding.EncodeToString([]byte(s)),
			url.QueryEscape(s), url.PathEscape(s), quoted(s), jsonQuoted(s))
	}
	// Longest first, so a secret that contains another is masked whole.
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// String returns s with URL credentials stripped and every secret masked.
func (r *Redactor) String(s string) string {
	return r.Values(urlPattern.ReplaceAllStringFunc(s, URL))
}

// Values returns s with every registered secret value masked, in each of
// its forms, and nothing else changed: unlike String it keeps URLs as they
// are. It is for text that is not secret by itself, such as a rendered
// manifest whose other values are in Git in clear. A nil Redactor returns
// s unchanged.
func (r *Redactor) Values(s string) string {
	if r == nil {
		return s
	}
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, Mask)
	}
	return s
}

// Error returns err's message, redacted. A nil error gives "".
func (r *Redactor) Error(err error) string {
	if err == nil {
		return ""
	}
	return r.String(err.Error())
}

// quoted is s as Go's %q writes it, without the quotes: the form API server
// validation messages use for an invalid value.
func quoted(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// jsonQuoted is s as a JSON string, without the quotes.
func jsonQuoted(s string) string {
	b, err := json.Marshal(s)
	if err != nil || len(b) < 2 {
		return s
	}
	return string(b[1 : len(b)-1])
}
