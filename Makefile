# The podman v4 bindings build only with these tags (CGO off works). They are
# set once, here, through GOFLAGS, so every build, test, vet and bench run by
# this Makefile uses them. Outside make: export GOFLAGS="$$(make -s goflags)".
export GOFLAGS := -tags=remote,exclude_graphdriver_btrfs,btrfs_noversion,exclude_graphdriver_devicemapper,containers_image_openpgp
export CGO_ENABLED := 0

.PHONY: goflags
goflags:
	@echo '$(GOFLAGS)'
