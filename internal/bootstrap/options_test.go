package bootstrap

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{"https with a password", func(o *Options) { o.Password = "pw-123" }, ""},
		{"ssh with a key", func(o *Options) { o.URL, o.PrivateKey = "ssh://git@host/fleet.git", []byte("key") }, ""},
		{"path with ./", func(o *Options) { o.Path = "./clusters/a/" }, ""},
		{"password in the url", func(o *Options) { o.URL = "https://bot:secret-pw@host/fleet.git" }, "carries a password"},
		{"ssh without a key", func(o *Options) { o.URL = "ssh://git@host/fleet.git" }, "--private-key-file"},
		{"key with https", func(o *Options) { o.PrivateKey = []byte("key") }, "for ssh://"},
		{"ftp url", func(o *Options) { o.URL = "ftp://host/fleet.git" }, "not supported"},
		{"path outside", func(o *Options) { o.Path = "../x" }, "inside the repository"},
		{"root path", func(o *Options) { o.Path = "." }, "inside the repository"},
		{"no branch", func(o *Options) { o.Branch = "" }, "--branch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			o.URL, o.Path = "https://git.example.com/fleet.git", "clusters/a"
			tc.mutate(&o)
			err := o.validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if o.Path != "clusters/a" {
					t.Errorf("path = %q, want clusters/a", o.Path)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "secret-pw") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestSecretKeys(t *testing.T) {
	o := DefaultOptions()
	o.Username, o.Password = "bot", "pw"
	s, err := o.secret()
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedMap(s.Object, "data")
	if _, ok := data["username"]; !ok || len(data) != 2 {
		t.Errorf("https secret keys = %v", data)
	}
	o = DefaultOptions()
	o.PrivateKey, o.KnownHosts = []byte("key"), []byte("hosts")
	s, _ = o.secret()
	data, _, _ = unstructured.NestedMap(s.Object, "data")
	if _, ok := data["identity"]; !ok {
		t.Errorf("ssh secret keys = %v", data)
	}
	if _, ok := data["known_hosts"]; !ok {
		t.Errorf("ssh secret keys = %v", data)
	}
}
