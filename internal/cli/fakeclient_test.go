package cli

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/flotilla-io/flotilla/api/v1alpha1"
)

// newFakeClient is a controller-runtime fake client with the agent's
// scheme holding objs, for the logic that only reads and patches objects
// (no API server decision: no defaulting, no validation). The kinds with a
// status subresource have it, so a status patch is told apart from a spec
// patch as on a cluster.
func newFakeClient(t *testing.T, objs ...client.Object) client.WithWatch {
	t.Helper()
	return fakeBuilder(objs...).Build()
}

// fakeBuilder is newFakeClient's builder, for a test that adds interceptors.
func fakeBuilder(objs ...client.Object) *fake.ClientBuilder {
	return fake.NewClientBuilder().
		WithScheme(v1alpha1.NewScheme()).
		WithObjects(objs...).
		WithStatusSubresource(&v1alpha1.Stack{}, &v1alpha1.GitRepository{}, &v1alpha1.ImagePolicy{},
			&v1alpha1.ImageRepository{}, &v1alpha1.ImageUpdate{}, &v1alpha1.Canary{})
}

// onGet builds a fake client holding objs whose Get calls get instead, with
// the fake's own Get as next.
func onGet(objs []client.Object, get func(ctx context.Context, next client.WithWatch, key client.ObjectKey, obj client.Object) error) client.WithWatch {
	return fakeBuilder(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Get: func(ctx context.Context, next client.WithWatch, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
			return get(ctx, next, key, obj)
		},
	}).Build()
}
