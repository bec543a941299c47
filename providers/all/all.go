// Package all wires every provider: importing it (as the root package does)
// registers each one with providers.Default.
package all

import (
	_ "github.com/broker-go/broker/providers/ansibletower" // AnsibleTower: AWX, Tower and AAP controllers
	_ "github.com/broker-go/broker/providers/container"    // Container: Docker and Podman
)
