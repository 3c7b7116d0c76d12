#!/bin/sh
# Never start services from package maintainer scripts inside an image build.
exit 101
