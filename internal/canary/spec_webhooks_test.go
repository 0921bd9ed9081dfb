package canary_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
)

// specErrors validates c with a checker and a webhook client and returns
// "field: reason" of every *SpecError.
func specErrors(t *testing.T, c *v1alpha1.Canary) []*canary.SpecError {
	t.Helper()
	err := canary.Validate(c, true, true)
	if err == nil {
		return nil
	}
	var out []*canary.SpecError
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var se *canary.SpecError
		if !errors.As(e, &se) {
			t.Fatalf("Validate returned %v, which is not a *SpecError", e)
		}
		out = append(out, se)
	}
	return out
}

func TestValidateWebhookURLsAndTimeouts(t *testing.T) {
	const secret = "s3cr3t-hook-pa55"
	gate := v1alpha1.CanaryWebhook{Name: "gate", Type: v1alpha1.ConfirmRolloutHook, URL: "http://loadtester.test/gate/check"}
	for _, tc := range []struct {
		name       string
		hook       v1alpha1.CanaryWebhook
		wantFields []string
		wantReason string
	}{
		{"http with a timeout", v1alpha1.CanaryWebhook{Name: "load", URL: "http://loadtester.test/", Timeout: "15s"}, nil, ""},
		{"https with a port, a query and no timeout", v1alpha1.CanaryWebhook{Name: "load", URL: "https://hooks.test:8443/run?token=x"}, nil, ""},
		{"a composite timeout", v1alpha1.CanaryWebhook{Name: "load", URL: "http://loadtester.test/", Timeout: "1m30s"}, nil, ""},
		{"ftp", v1alpha1.CanaryWebhook{Name: "load", URL: "ftp://files.test/hook"}, []string{"spec.analysis.webhooks[1].url"}, `scheme "ftp" is not supported: use http:// or https://`},
		{"file", v1alpha1.CanaryWebhook{Name: "load", URL: "file:///etc/passwd"}, []string{"spec.analysis.webhooks[1].url"}, "not an absolute URL"},
		{"a path without scheme or host", v1alpha1.CanaryWebhook{Name: "load", URL: "loadtester/gate"}, []string{"spec.analysis.webhooks[1].url"}, "not an absolute URL"},
		{"an empty URL", v1alpha1.CanaryWebhook{Name: "load"}, []string{"spec.analysis.webhooks[1].url"}, "not an absolute URL"},
		{"a URL that does not parse", v1alpha1.CanaryWebhook{Name: "load", URL: "http://%zz/"}, []string{"spec.analysis.webhooks[1].url"}, "not an absolute URL"},
		{"a zero timeout", v1alpha1.CanaryWebhook{Name: "load", URL: "http://loadtester.test/", Timeout: "0s"}, []string{"spec.analysis.webhooks[1].timeout"}, `"0s" is not a positive duration`},
		{"a negative timeout", v1alpha1.CanaryWebhook{Name: "load", URL: "http://loadtester.test/", Timeout: "-5s"}, []string{"spec.analysis.webhooks[1].timeout"}, `"-5s" is not a positive duration`},
		{"a timeout without unit", v1alpha1.CanaryWebhook{Name: "load", URL: "http://loadtester.test/", Timeout: "10"}, []string{"spec.analysis.webhooks[1].timeout"}, `"10" is not a positive duration`},
		{"a timeout in words", v1alpha1.CanaryWebhook{Name: "load", URL: "http://loadtester.test/", Timeout: "soon"}, []string{"spec.analysis.webhooks[1].timeout"}, `"soon" is not a positive duration`},
		{"both wrong", v1alpha1.CanaryWebhook{Name: "load", URL: "gopher://old.test/", Timeout: "0"},
			[]string{"spec.analysis.webhooks[1].url", "spec.analysis.webhooks[1].timeout"}, "gopher"},
		{"a credential in a refused URL is not quoted back", v1alpha1.CanaryWebhook{Name: "load", URL: "ftp://deploy:" + secret + "@files.test/?key=" + secret},
			[]string{"spec.analysis.webhooks[1].url"}, `scheme "ftp"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := withHooks(weighted(), gate, tc.hook)
			got := specErrors(t, c)
			var fields []string
			for _, se := range got {
				fields = append(fields, se.Field)
			}
			if diff := cmp.Diff(tc.wantFields, fields); diff != "" {
				t.Fatalf("fields refused (-want +got):\n%s\nerrors: %v", diff, got)
			}
			err := canary.Validate(c, true, true)
			if tc.wantReason != "" && !strings.Contains(err.Error(), tc.wantReason) {
				t.Errorf("Validate = %q, want %q in it", err, tc.wantReason)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("Validate = %q quotes the URL's credential", err)
			}
		})
	}
}

func TestValidateNamesEachBadWebhookByIndex(t *testing.T) {
	c := withHooks(weighted(),
		v1alpha1.CanaryWebhook{Name: "fine", URL: "https://a.test/"},
		v1alpha1.CanaryWebhook{Name: "bad-url", URL: "tcp://b.test:9000"},
		v1alpha1.CanaryWebhook{Name: "fine-too", URL: "http://c.test/", Timeout: "500ms"},
		v1alpha1.CanaryWebhook{Name: "bad-timeout", URL: "http://d.test/", Timeout: "-1m"},
	)
	var fields []string
	for _, se := range specErrors(t, c) {
		fields = append(fields, se.Field)
	}
	want := []string{"spec.analysis.webhooks[1].url", "spec.analysis.webhooks[3].timeout"}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("fields refused (-want +got):\n%s", diff)
	}
}
