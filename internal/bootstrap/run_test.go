package bootstrap

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

func TestRunRefusesBadOptionsBeforeConnectingAndRedacts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{"a path outside the repository", func(o *Options) { o.Path, o.Password = "../pw-s3cret-42", "pw-s3cret-42" }, "--path"},
		{"an ssh url with a password", func(o *Options) {
			o.URL, o.PrivateKey, o.Password = "ssh://git@host/fleet.git", []byte("key"), "pw-s3cret-42"
		}, "--password is for http(s) URLs"},
		{"no branch", func(o *Options) { o.Branch, o.Password = "", "pw-s3cret-42" }, "--branch is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := validOptions()
			tc.mutate(&o)
			var progress []string
			// An address nothing listens on: validation must fail first.
			res, err := Run(context.Background(), &rest.Config{Host: "https://127.0.0.1:1"}, o, func(s string) { progress = append(progress, s) })
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "pw-s3cret-42") {
				t.Errorf("the error shows the password: %v", err)
			}
			if len(progress) != 0 || res.Committed || len(res.Changes.Changes) != 0 {
				t.Errorf("a refused run did something: progress %q, result %+v", progress, res)
			}
		})
	}
}
