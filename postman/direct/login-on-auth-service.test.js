expectBearerToken('direct_token');
