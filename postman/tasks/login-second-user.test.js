expectBearerToken('other_token');
