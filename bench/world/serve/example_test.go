package serve_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/rovd/rovd/bench/world"
	"github.com/rovd/rovd/bench/world/serve"
)

// Build the small world on free loopback ports, serve it, and fetch a
// notification with a client that trusts the world's test CA. In a test,
// serve.SmallWorld(t, serve.Options{}) does all of this in one call.
func ExampleStart() {
	ctx := context.Background()
	cfg, err := world.Preset("small")
	if err != nil {
		log.Fatal(err)
	}
	if cfg.Repositories, err = serve.FreeRepositories(2); err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "world")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if _, err := world.Build(ctx, cfg, dir); err != nil {
		log.Fatal(err)
	}
	srv, err := serve.Start(ctx, dir, serve.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	resp, err := srv.Client().Get(srv.NotifyURIs()[0])
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	fmt.Println("relying party: --tal-dir", srv.TALDir(), "--rrdp-root-cert", srv.CAFile(), "--allow-dubious-hosts")
	fmt.Println("rsync:", srv.RsyncModules())
}
