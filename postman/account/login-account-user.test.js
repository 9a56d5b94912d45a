expectBearerToken('account_token');
