expectBearerToken('token');
