package router_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
	"github.com/flotilla-io/flotilla/internal/canary"
	"github.com/flotilla-io/flotilla/internal/canary/router"
)

func TestNewKnowsTheRoutersAndRefusesTheUnknown(t *testing.T) {
	for _, p := range []string{"", v1alpha1.RouterKubernetes, v1alpha1.RouterGatewayAPI} {
		if r, err := router.New(p, nil); err != nil || r == nil {
			t.Errorf("New(%q) = %v, %v", p, r, err)
		}
	}
	_, err := router.New("istio", nil)
	var se *canary.SpecError
	if !errors.As(err, &se) || se.Field != "spec.provider" || !strings.Contains(err.Error(), `"istio" is not available`) {
		t.Errorf("New(istio) = %v, want a *SpecError on spec.provider", err)
	}
}

type stub struct{ canary.Router }

func TestRegisterAddsARouter(t *testing.T) {
	router.Register("test-stub", func(client.Client) canary.Router { return stub{} })
	if !slices.Contains(router.Providers(), "test-stub") {
		t.Fatalf("Providers() = %v", router.Providers())
	}
	if _, err := router.New("test-stub", nil); err != nil {
		t.Fatal(err)
	}
}

func TestKubernetesRefusesWeightsThatDoNotAddUp(t *testing.T) {
	k := router.NewKubernetes(nil)
	c := &v1alpha1.Canary{}
	if err := k.SetRoutes(context.Background(), c, 60, 60); err == nil {
		t.Error("SetRoutes(60, 60) succeeded")
	}
}
