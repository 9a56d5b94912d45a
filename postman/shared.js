// What several request scripts check or do, each written once: `make postman` puts in front of a script the
// blocks below that it uses (Postman runs every script on its own). One function or constant per block.
