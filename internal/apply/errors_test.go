package apply

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var deploymentGK = schema.GroupKind{Group: "apps", Kind: "Deployment"}

// immutableSelector is the error the API server returns for a changed
// Deployment selector.
func immutableSelector() error {
	return apierrors.NewInvalid(deploymentGK, "web", field.ErrorList{
		field.Invalid(field.NewPath("spec", "selector"), `{"matchLabels":{"app":"web-v2"}}`, "field is immutable"),
	})
}

func TestImmutableFields(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{name: "no error"},
		{name: "not an API error", err: errors.New("field is immutable")},
		{name: "a conflict", err: apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "x", errors.New("field is immutable"))},
		{
			name: "an invalid value that may change",
			err: apierrors.NewInvalid(deploymentGK, "web", field.ErrorList{
				field.Required(field.NewPath("spec", "selector"), ""),
			}),
		},
		{name: "a changed selector", err: immutableSelector(), want: []string{"spec.selector"}},
		{name: "wrapped", err: fmt.Errorf("applying: %w", immutableSelector()), want: []string{"spec.selector"}},
		{
			name: "two immutable fields among other causes",
			err: apierrors.NewInvalid(schema.GroupKind{Group: "batch", Kind: "Job"}, "migrate", field.ErrorList{
				field.Invalid(field.NewPath("spec", "template"), "…", "field is immutable"),
				field.Invalid(field.NewPath("spec", "parallelism"), -1, "must be greater than or equal to 0"),
				field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"),
			}),
			want: []string{"spec.template", "data"},
		},
		{
			name: "invalid, no causes, not immutable",
			err:  &apierrors.StatusError{ErrStatus: apierrors.NewInvalid(deploymentGK, "web", nil).Status()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, immutableFields(tt.err)); diff != "" {
				t.Errorf("immutableFields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImmutableFieldsWithoutCauses(t *testing.T) {
	err := apierrors.NewInvalid(deploymentGK, "web", nil)
	err.ErrStatus.Message = `Deployment.apps "web" is invalid: field is immutable`

	if diff := cmp.Diff([]string{"(field not named by the server)"}, immutableFields(err)); diff != "" {
		t.Errorf("immutableFields (-want +got):\n%s", diff)
	}
}

func TestImmutableError(t *testing.T) {
	server := immutableSelector()
	err := error(&ImmutableError{Fields: []string{"spec.selector"}, Err: server})

	if !errors.Is(err, ErrImmutable) {
		t.Error("errors.Is(err, ErrImmutable) = false")
	}
	if !apierrors.IsInvalid(err) {
		t.Error("the server's Invalid error is not reachable")
	}
	for _, want := range []string{"spec.selector", "force: true"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not contain %q", err, want)
		}
	}
}

func TestOwnershipError(t *testing.T) {
	err := error(&OwnershipError{Owner: "team-a/web"})

	if !errors.Is(err, ErrOwnedElsewhere) {
		t.Error("errors.Is(err, ErrOwnedElsewhere) = false")
	}
	if !strings.Contains(err.Error(), "Stack team-a/web") {
		t.Errorf("message %q does not name Stack team-a/web", err)
	}
}

func TestObjectErrorGivesTheServersMessage(t *testing.T) {
	cm := ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "settings"}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "settings", errors.New("no delete for you"))
	err := error(&ObjectError{Object: cm, Op: "delete", Err: fmt.Errorf("deleting: %w", forbidden)})

	if want := "delete ConfigMap/web/settings: " + forbidden.ErrStatus.Message; err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
	if !apierrors.IsForbidden(err) {
		t.Error("the cause is not reachable")
	}
}

func TestValidationErrorNamesEveryObjectInOrder(t *testing.T) {
	svc := ObjMetadata{Version: "v1", Kind: "Service", Namespace: "web", Name: "web"}
	deploy := ObjMetadata{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "web", Name: "web"}
	err := &ValidationError{Failures: []*ObjectError{
		{Object: svc, Op: "dry-run", Err: errors.New("port out of range")},
		{Object: deploy, Op: "dry-run", Err: immutableSelector()},
	}}

	msg := err.Error()

	if !strings.HasPrefix(msg, "server-side dry-run refused 2 object(s)") {
		t.Errorf("message %q does not count the objects", msg)
	}
	d, s := strings.Index(msg, "Deployment/web/web: "), strings.Index(msg, "Service/web/web: port out of range")
	if d < 0 || s < 0 || d > s {
		t.Errorf("message %q should list both objects, sorted", msg)
	}
}

func TestValidationErrorOfAnUnansweredDryRunIsNoRefusal(t *testing.T) {
	svc := ObjMetadata{Version: "v1", Kind: "Service", Namespace: "web", Name: "web"}
	cm := ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "settings"}
	unavailable := apierrors.NewServiceUnavailable("the API server is unavailable")
	reset := &url.Error{Op: "Patch", URL: "https://10.0.0.1:6443/api/v1/namespaces/web/configmaps/settings?dryRun=All",
		Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	cases := []struct {
		name        string
		failures    []*ObjectError
		unavailable bool
		prefix      string
	}{{
		name:        "every dry-run answered 503",
		failures:    []*ObjectError{{Object: svc, Op: "dry-run", Err: unavailable}, {Object: cm, Op: "dry-run", Err: unavailable}},
		unavailable: true,
		prefix:      "the API server could not answer the server-side dry-run of 2 object(s), it is retried, nothing was applied: ",
	}, {
		name:        "a connection reset and a 503",
		failures:    []*ObjectError{{Object: svc, Op: "dry-run", Err: unavailable}, {Object: cm, Op: "dry-run", Err: reset}},
		unavailable: true,
		prefix:      "the API server could not answer the server-side dry-run of 2 object(s), it is retried, nothing was applied: ConfigMap/web/settings: connection to the API server lost: connection reset by peer; ",
	}, {
		name:     "one refusal and one 503",
		failures: []*ObjectError{{Object: svc, Op: "dry-run", Err: errors.New("port out of range")}, {Object: cm, Op: "dry-run", Err: unavailable}},
		prefix:   "server-side dry-run refused 1 object(s), and the API server could not answer it for 1 more, nothing was applied: ",
	}, {
		name:     "refusals only",
		failures: []*ObjectError{{Object: svc, Op: "dry-run", Err: errors.New("port out of range")}},
		prefix:   "server-side dry-run refused 1 object(s), nothing was applied: Service/web/web: port out of range",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := &ValidationError{Failures: tc.failures}
			if got := err.Unavailable(); got != tc.unavailable {
				t.Errorf("Unavailable() = %v, want %v", got, tc.unavailable)
			}
			if !strings.HasPrefix(err.Error(), tc.prefix) {
				t.Errorf("message = %q\nwant it to start %q", err, tc.prefix)
			}
		})
	}
}

func TestObjectErrorNamesALostConnection(t *testing.T) {
	cm := ObjMetadata{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "settings"}
	cases := []struct {
		name string
		err  error
		want string
	}{{
		name: "EOF inside the request's URL error",
		err:  &url.Error{Op: "Patch", URL: "https://10.0.0.1:6443/api/v1/namespaces/web/configmaps/settings", Err: io.EOF},
		want: "apply ConfigMap/web/settings: connection to the API server lost: EOF",
	}, {
		name: "unexpected EOF",
		err:  fmt.Errorf("reading the answer: %w", io.ErrUnexpectedEOF),
		want: "apply ConfigMap/web/settings: connection to the API server lost: unexpected EOF",
	}, {
		name: "connection refused",
		err: &url.Error{Op: "Patch", URL: "https://10.0.0.1:6443/api", Err: &net.OpError{Op: "dial", Net: "tcp",
			Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}},
		want: "apply ConfigMap/web/settings: cannot connect to the API server: connection refused",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := &ObjectError{Object: cm, Op: "apply", Err: tc.err}
			if got := err.Error(); got != tc.want {
				t.Errorf("message = %q, want %q", got, tc.want)
			}
			if !IsUnavailable(err) {
				t.Error("IsUnavailable = false for a lost connection")
			}
			if !errors.Is(err, innermost(tc.err)) {
				t.Error("the cause is not reachable")
			}
		})
	}
	if IsUnavailable(&ObjectError{Object: cm, Op: "apply", Err: errors.New("port out of range")}) {
		t.Error("IsUnavailable = true for a refusal")
	}
}

func TestReasonOf(t *testing.T) {
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, "settings")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "API error", err: notFound, want: `configmaps "settings" not found`},
		{name: "wrapped API error", err: fmt.Errorf("reading: %w", notFound), want: `configmaps "settings" not found`},
		{name: "other error", err: errors.New("connection refused"), want: "connection refused"},
		{name: "API error without a message", err: &apierrors.StatusError{}, want: (&apierrors.StatusError{}).Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reasonOf(tt.err); got != tt.want {
				t.Errorf("reasonOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsNoKind(t *testing.T) {
	widgets := schema.GroupResource{Group: "example.com", Resource: "widgets"}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "no error"},
		{name: "no REST mapping", err: &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "example.com", Kind: "Widget"}}, want: true},
		{name: "wrapped no REST mapping", err: fmt.Errorf("applying: %w", &meta.NoKindMatchError{}), want: true},
		{name: "the resource type is not served", err: apierrors.NewNotFound(widgets, ""), want: true},
		{name: "404 without details", err: &apierrors.StatusError{ErrStatus: apierrors.NewNotFound(widgets, "").Status()}, want: true},
		{name: "a missing object", err: apierrors.NewNotFound(widgets, "small")},
		{name: "a missing namespace", err: apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "web")},
		{name: "another error", err: apierrors.NewForbidden(widgets, "", errors.New("no"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isNoKind(tt.err); got != tt.want {
				t.Errorf("isNoKind(%v) = %t, want %t", tt.err, got, tt.want)
			}
		})
	}
}

func TestScratchName(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{name: "web", want: "web-flotilla-dry-run"},
		{name: strings.Repeat("a", 46), want: strings.Repeat("a", 46) + "-flotilla-dry-run"},
		{name: strings.Repeat("a", 47), want: strings.Repeat("a", 46) + "-flotilla-dry-run"},
		{name: strings.Repeat("b", 253), want: strings.Repeat("b", 46) + "-flotilla-dry-run"},
	}
	for _, tt := range tests {
		got := scratchName(tt.name)
		if got != tt.want {
			t.Errorf("scratchName(%d chars) = %q, want %q", len(tt.name), got, tt.want)
		}
		if len(got) > 63 {
			t.Errorf("scratchName(%d chars) is %d chars long, more than a DNS label", len(tt.name), len(got))
		}
	}
}

func TestValidationErrorUnwrapsToTypedCauses(t *testing.T) {
	imm := &ImmutableError{Fields: []string{"spec.selector"}, Err: errors.New("field is immutable")}
	own := &OwnershipError{Owner: "flotilla-system/a"}
	ve := &ValidationError{Failures: []*ObjectError{
		{Object: ObjMetadata{Kind: "Deployment", Namespace: "ns", Name: "d"}, Op: "dry-run", Err: imm},
		{Object: ObjMetadata{Kind: "ConfigMap", Namespace: "ns", Name: "c"}, Op: "dry-run", Err: own},
	}}
	if !errors.Is(ve, ErrImmutable) || !errors.Is(ve, ErrOwnedElsewhere) {
		t.Fatalf("errors.Is must reach the per-object causes: %v", ve)
	}
	msg := ve.Error()
	for _, want := range []string{"set force: true", "spec.selector", "belongs to Stack flotilla-system/a", "nothing was applied"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	ve.Written = 2
	if !strings.Contains(ve.Error(), "nothing else was applied (only the 2 CRDs and Namespaces") {
		t.Errorf("a partial write must be said: %q", ve.Error())
	}
}

func TestImmutableWordings(t *testing.T) {
	for _, msg := range []string{"field is immutable", "spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.2\"}: may not change once set"} {
		if !isImmutableMessage(msg) {
			t.Errorf("%q is an immutable-field refusal", msg)
		}
	}
	if isImmutableMessage("spec.ports[0].port: Invalid value: 99999") {
		t.Error("an ordinary validation error is not an immutable one")
	}
}
