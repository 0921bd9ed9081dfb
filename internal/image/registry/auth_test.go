package registry

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func TestAuthsMatchHostsAsDockerDoes(t *testing.T) {
	var a Auths
	if err := a.Add("first", []byte(`{"auths":{"https://index.docker.io/v1/":{"username":"hub","password":"p1"},"reg.example.com:5000":{"username":"u","password":"p2"}}}`)); err != nil {
		t.Fatal(err)
	}
	if err := a.Add("second", []byte(`{"auths":{"reg.example.com:5000":{"username":"late","password":"p3"},"ghcr.io":{"identitytoken":"tok"}}}`)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, registry, wantUser, wantPassword string
		found                                  bool
	}{
		{"docker hub by its short name", "docker.io", "hub", "p1", true},
		{"the first secret wins", "reg.example.com:5000", "u", "p2", true},
		{"an identity token is a password", "ghcr.io", "", "tok", true},
		{"an unknown host has none", "quay.io", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := name.NewRegistry(tc.registry)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := a.For(reg)
			if ok != tc.found || c.Username != tc.wantUser || c.Password != tc.wantPassword {
				t.Fatalf("For(%s) = %+v, %v", tc.registry, c, ok)
			}
		})
	}
}

func FuzzAuthsAdd(f *testing.F) {
	f.Add([]byte(`{"auths":{"h":{"auth":"dTpw"}}}`))
	f.Add([]byte(`{"auths":{"https://h/v1/":{"username":"u","password":"p"}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Auths
		_ = a.Add("fuzz", data) // must not panic
		_ = a.Secrets()
	})
}
