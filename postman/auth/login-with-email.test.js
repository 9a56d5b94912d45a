expectBearerToken();
