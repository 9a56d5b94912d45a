expectInvalidApiKey();
