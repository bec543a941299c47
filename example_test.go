package broker_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/internal/testenv"
)

// exampleBroker is a Broker on a fresh directory, pointed at the Docker test
// engine (a user's own settings file or auto-detection does this normally).
func exampleBroker() *broker.Broker {
	dir, err := os.MkdirTemp("", "broker-example")
	if err != nil {
		log.Fatal(err)
	}
	b, err := broker.New(broker.Options{
		Dir: dir,
		Overrides: map[string]any{
			"Container.runtime": "docker",
			"Container.host":    os.Getenv("BROKER_TEST_DOCKER_HOST"),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	return b
}

// Check a container out, run a command in it, check it in.
func Example() {
	ctx := context.Background()
	b := exampleBroker()
	res, err := b.Checkout(ctx, broker.CheckoutOptions{
		ArgsRequest: broker.ArgsRequest{Args: broker.Args{"container_host": testenv.BusyboxImage}},
		Count:       2,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, rec := range res.Records {
		h := b.Host(rec)
		out, err := h.Run(ctx, "echo hello from a container; exit 3")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(out.Stdout, "status ", out.Status, "\n")
		h.Close()
	}
	if _, err := b.Checkin(ctx, broker.CheckinOptions{Records: res.Records}); err != nil {
		log.Fatal(err)
	}
	recs, _ := b.Inventory(ctx, "")
	fmt.Println(len(recs), "hosts left")
	// Output:
	// hello from a container
	// status 3
	// hello from a container
	// status 3
	// 0 hosts left
}

// webServer is a custom host: broker runs Setup after checkout and Teardown
// before checkin (upstream's custom host classes).
type webServer struct{ h *broker.Host }

func (w *webServer) Setup(ctx context.Context) error {
	_, err := w.h.Run(ctx, "mkdir -p /srv/www && echo ready > /srv/www/index.html")
	return err
}

func (w *webServer) Teardown(ctx context.Context) error {
	out, err := w.h.Run(ctx, "cat /srv/www/index.html")
	fmt.Print("teardown sees: ", out.Stdout)
	return err
}

// Use checks hosts out with custom behaviour and Release gives them back.
func ExampleBroker_Use() {
	ctx := context.Background()
	b := exampleBroker()
	lease, err := b.Use(ctx, broker.UseOptions{
		CheckoutOptions: broker.CheckoutOptions{ArgsRequest: broker.ArgsRequest{Args: broker.Args{"container_host": testenv.BusyboxImage}}},
		Custom:          func(h *broker.Host) broker.Custom { return &webServer{h} },
	})
	if err != nil {
		log.Fatal(err)
	}
	out, _ := lease.Hosts[0].Run(ctx, "ls /srv/www")
	fmt.Print(out.Stdout)
	if err := lease.Release(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// index.html
	// teardown sees: ready
}
