expectBearerChallenge();
