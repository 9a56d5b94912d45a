expectNoBody();
