expectStreamRefused();
